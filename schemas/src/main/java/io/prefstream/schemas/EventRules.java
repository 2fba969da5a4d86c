package io.prefstream.schemas;

import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Rating;
import io.prefstream.schemas.FieldError.Rule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;

/**
 * The semantic rules an event must meet beyond its schema's JSON form: event time not beyond the
 * allowed clock skew, texts within the configured bound, a rating inside its scale, a ranking of
 * distinct responses, a comparison of two different responses. Tenant checks belong to
 * authentication.
 */
public final class EventRules {

  private final Clock clock;
  private final Duration maxFutureSkew;
  private final int maxTextChars;

  /**
   * @param clock the ingest clock
   * @param maxFutureSkew how far beyond now {@code occurred_at} may lie (client clocks drift)
   * @param maxTextChars the longest prompt or response accepted, in UTF-16 characters
   */
  public EventRules(Clock clock, Duration maxFutureSkew, int maxTextChars) {
    if (maxFutureSkew.isNegative()) {
      throw new IllegalArgumentException(
          "maxFutureSkew must not be negative, got " + maxFutureSkew);
    }
    if (maxTextChars < 1) {
      throw new IllegalArgumentException("maxTextChars must be positive, got " + maxTextChars);
    }
    this.clock = clock;
    this.maxFutureSkew = maxFutureSkew;
    this.maxTextChars = maxTextChars;
  }

  /** Every rule the event breaks, in field order; empty when it is acceptable. */
  public List<FieldError> check(FeedbackEvent event) {
    List<FieldError> errors = new ArrayList<>();
    Instant latest = clock.instant().plus(maxFutureSkew);
    if (event.getOccurredAt().isAfter(latest)) {
      errors.add(
          new FieldError(
              "occurred_at",
              Rule.OUT_OF_RANGE,
              event.getOccurredAt()
                  + " is more than "
                  + maxFutureSkew.toSeconds()
                  + " s in the future (ingest clock "
                  + clock.instant()
                  + ")"));
    }
    errors.addAll(checkContent(event));
    return errors;
  }

  /**
   * Every rule the event's payload breaks, leaving event time aside: for readers of the feedback
   * topic (the pair builder), whose clock is not the one the event was accepted by.
   */
  public List<FieldError> checkContent(FeedbackEvent event) {
    List<FieldError> errors = new ArrayList<>();
    ids(errors, "", event);
    Object payload = event.getPayload();
    if (payload instanceof IndexedRecord r) {
      String branch =
          r.getSchema().getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
      ids(errors, branch + ".", r);
    }
    if (payload instanceof Exposure e) {
      text(errors, "exposure.prompt", e.getPrompt());
      text(errors, "exposure.response", e.getResponse());
    } else if (payload instanceof Rating r) {
      rating(errors, r);
    } else if (payload instanceof PairwiseChoice c
        && c.getChosenResponseId().equals(c.getRejectedResponseId())) {
      errors.add(
          new FieldError(
              "pairwise_choice.rejected_response_id",
              Rule.INVALID_VALUE,
              "equals chosen_response_id '"
                  + c.getChosenResponseId()
                  + "'; a choice needs two responses"));
    } else if (payload instanceof Ranking r) {
      ranking(errors, r);
    } else if (payload instanceof LabeledPair p) {
      text(errors, "labeled_pair.prompt", p.getPrompt());
      text(errors, "labeled_pair.chosen", p.getChosen());
      text(errors, "labeled_pair.rejected", p.getRejected());
      if (p.getChosen().equals(p.getRejected())) {
        errors.add(
            new FieldError(
                "labeled_pair.rejected",
                Rule.INVALID_VALUE,
                "equals chosen; a pair needs two different responses"));
      }
    }
    return errors;
  }

  /**
   * Every id of {@code record} (a field named {@code *_id}, or each string of a {@code *_ids} list)
   * must hold more than white space: {@code " "} and {@code "e-1"} are not two spellings of one id,
   * and a blank one names nothing.
   */
  private static void ids(List<FieldError> errors, String prefix, IndexedRecord record) {
    for (Schema.Field f : record.getSchema().getFields()) {
      Object value = record.get(f.pos());
      if (f.name().endsWith("_id") && value instanceof CharSequence id) {
        blank(errors, prefix + f.name(), id);
      } else if (f.name().endsWith("_ids") && value instanceof List<?> list) {
        for (int i = 0; i < list.size(); i++) {
          if (list.get(i) instanceof CharSequence id) {
            blank(errors, prefix + f.name() + "[" + i + "]", id);
          }
        }
      }
    }
  }

  private static void blank(List<FieldError> errors, String field, CharSequence id) {
    if (!id.isEmpty() && id.toString().isBlank()) {
      errors.add(
          new FieldError(field, Rule.INVALID_VALUE, "is only white space; an id names something"));
    }
  }

  private void text(List<FieldError> errors, String field, String text) {
    if (text.length() > maxTextChars) {
      errors.add(
          new FieldError(
              field,
              Rule.TOO_LONG,
              "is " + text.length() + " characters, at most " + maxTextChars + " accepted"));
    }
  }

  private static void rating(List<FieldError> errors, Rating r) {
    if (!(r.getScaleMin() < r.getScaleMax())) {
      errors.add(
          new FieldError(
              "rating.scale_max",
              Rule.OUT_OF_RANGE,
              "scale_max "
                  + r.getScaleMax()
                  + " must be greater than scale_min "
                  + r.getScaleMin()));
    } else if (!(r.getValue() >= r.getScaleMin() && r.getValue() <= r.getScaleMax())) {
      errors.add(
          new FieldError(
              "rating.value",
              Rule.OUT_OF_RANGE,
              r.getValue()
                  + " is not on the scale ["
                  + r.getScaleMin()
                  + ", "
                  + r.getScaleMax()
                  + "]"));
    }
  }

  private static void ranking(List<FieldError> errors, Ranking r) {
    Set<String> seen = new HashSet<>();
    List<String> ids = r.getResponseIds();
    for (int i = 0; i < ids.size(); i++) {
      if (!seen.add(ids.get(i))) {
        errors.add(
            new FieldError(
                "ranking.response_ids[" + i + "]",
                Rule.INVALID_VALUE,
                "'" + ids.get(i) + "' is ranked twice; each response appears once"));
      }
    }
  }
}
