package io.prefstream.simulator;

import io.prefstream.avro.FeedbackEvent;

/**
 * One event the simulated product sends: a valid {@link FeedbackEvent}, or (for the malformed
 * share) JSON text that ingest must reject, with the field it should name.
 */
public record SimulatedEvent(FeedbackEvent event, String malformedJson, String expectedField) {

  public static SimulatedEvent valid(FeedbackEvent event) {
    return new SimulatedEvent(event, null, null);
  }

  public static SimulatedEvent malformed(String json, String expectedField) {
    return new SimulatedEvent(null, json, expectedField);
  }

  public boolean isMalformed() {
    return malformedJson != null;
  }
}
