package io.prefstream.ingest;

/**
 * The answer for one event of a request.
 *
 * @param index position of the event in the request (array index or NDJSON line among events)
 * @param eventId the event's id, or null when it had none readable
 * @param status what became of it
 * @param field the offending field's path when rejected, e.g. {@code rating.value}
 * @param error the broken rule's code when rejected or failed, e.g. {@code out_of_range}
 * @param reason a sentence for people
 */
public record EventResult(
    int index, String eventId, EventStatus status, String field, String error, String reason) {

  public static EventResult of(int index, String eventId, EventStatus status) {
    return new EventResult(index, eventId, status, null, null, null);
  }
}
