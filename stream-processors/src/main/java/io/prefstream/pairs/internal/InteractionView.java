package io.prefstream.pairs.internal;

import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * One interaction's stored events as the rules read them: every event in arrival order and the
 * exposures by response id.
 */
final class InteractionView {

  final String tenant;
  final String interaction;
  final List<FeedbackEvent> events;

  /** Exposure events in arrival order; an interaction shows a handful of responses, so a list. */
  final List<FeedbackEvent> exposures = new ArrayList<>(6);

  InteractionView(String tenant, String interaction, List<FeedbackEvent> events) {
    this.tenant = tenant;
    this.interaction = interaction;
    this.events = events;
    for (FeedbackEvent e : events) {
      if (e.getPayload() instanceof Exposure) {
        exposures.add(e);
      }
    }
  }

  private FeedbackEvent find(String responseId) {
    for (FeedbackEvent e : exposures) {
      if (((Exposure) e.getPayload()).getResponseId().equals(responseId)) {
        return e;
      }
    }
    return null;
  }

  boolean exposed(String responseId) {
    return find(responseId) != null;
  }

  Exposure exposure(String responseId) {
    return (Exposure) find(responseId).getPayload();
  }

  String exposureEventId(String responseId) {
    return find(responseId).getEventId();
  }

  long exposureTime(String responseId) {
    return find(responseId).getOccurredAt().toEpochMilli();
  }

  /** The exposed response ids, sorted. */
  List<String> responseIds() {
    List<String> ids = new ArrayList<>(exposures.size());
    for (FeedbackEvent e : exposures) {
      ids.add(((Exposure) e.getPayload()).getResponseId());
    }
    ids.sort(null);
    return ids;
  }
}
