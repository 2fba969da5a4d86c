package io.prefstream.pairs.internal;

import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One interaction's stored events as the rules read them: every event in arrival order and the
 * exposures by response id.
 */
final class InteractionView {

  final String tenant;
  final String interaction;
  final List<FeedbackEvent> events;
  final Map<String, FeedbackEvent> exposures;

  InteractionView(String tenant, String interaction, List<FeedbackEvent> events) {
    this.tenant = tenant;
    this.interaction = interaction;
    this.events = events;
    this.exposures = new HashMap<>();
    for (FeedbackEvent e : events) {
      if (e.getPayload() instanceof Exposure x) {
        exposures.putIfAbsent(x.getResponseId(), e);
      }
    }
  }

  boolean exposed(String responseId) {
    return exposures.containsKey(responseId);
  }

  Exposure exposure(String responseId) {
    return (Exposure) exposures.get(responseId).getPayload();
  }

  String exposureEventId(String responseId) {
    return exposures.get(responseId).getEventId();
  }

  long exposureTime(String responseId) {
    return exposures.get(responseId).getOccurredAt().toEpochMilli();
  }
}
