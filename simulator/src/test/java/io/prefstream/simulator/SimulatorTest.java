package io.prefstream.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Rating;
import io.prefstream.avro.Thumb;
import io.prefstream.schemas.EventRules;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.JsonFormException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SimulatorTest {

  private static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);

  private static List<String> jsonOf(List<SimulatedEvent> events) {
    return events.stream()
        .map(e -> e.isMalformed() ? e.malformedJson() : FORM.print(e.event()))
        .toList();
  }

  @Test
  void sameSeedGivesTheSameEventsAndAnotherSeedOthers() {
    SimulatorConfig.Builder config = SimulatorConfig.builder(START).optMalformedShare(0.05);

    List<String> first = jsonOf(new Simulator(config.build()).next(2000));
    List<String> again = jsonOf(new Simulator(config.build()).next(2000));
    List<String> other = jsonOf(new Simulator(config.optSeed(7).build()).next(2000));

    assertThat(again).isEqualTo(first);
    assertThat(other).isNotEqualTo(first);
  }

  @Test
  void everyValidEventPassesIngestRulesAndEveryMalformedOneFails() {
    Simulator simulator =
        new Simulator(SimulatorConfig.builder(START).optMalformedShare(0.1).build());
    List<SimulatedEvent> events = simulator.next(5000);
    EventRules rules =
        new EventRules(Clock.fixed(simulator.now(), ZoneOffset.UTC), Duration.ofMinutes(5), 65536);

    long malformed = 0;
    for (SimulatedEvent e : events) {
      if (e.isMalformed()) {
        malformed++;
        boolean rejected;
        try {
          rejected = !rules.check(FORM.parse(e.malformedJson())).isEmpty();
        } catch (JsonFormException ex) {
          rejected = true;
          assertThat(ex.first().field()).isEqualTo(e.expectedField());
        }
        assertThat(rejected).as(e.malformedJson()).isTrue();
      } else {
        FeedbackEvent parsed = FORM.parse(FORM.print(e.event()));
        assertThat(rules.check(parsed)).as(FORM.print(e.event())).isEmpty();
      }
    }
    double share = malformed / (double) (events.size() - malformed);
    assertThat(share).isBetween(0.08, 0.12);
  }

  @Test
  void emitsEveryKindOfFeedbackInTheConfiguredMix() {
    List<SimulatedEvent> events = new Simulator(SimulatorConfig.defaults(START)).next(20_000);
    Map<Class<?>, Integer> counts = new HashMap<>();
    events.forEach(e -> counts.merge(e.event().getPayload().getClass(), 1, Integer::sum));

    assertThat(counts.keySet())
        .contains(
            Exposure.class,
            Rating.class,
            Thumb.class,
            PairwiseChoice.class,
            Ranking.class,
            ImplicitSignal.class,
            LabeledPair.class);
    int exposures = counts.get(Exposure.class);
    int pairwise = counts.get(PairwiseChoice.class);
    int interactions = exposures / 3; // two to four responses each, three on average
    assertThat(pairwise / (double) interactions).isBetween(0.25, 0.4); // 0.35 of user interactions
  }

  @Test
  void choicesFollowTheTrueUtilityAndFlipWithThePreferenceShift() {
    Instant shift = START.plus(Duration.ofMinutes(8));
    Simulator simulator = new Simulator(SimulatorConfig.builder(START).optShiftAt(shift).build());
    Map<String, String> texts = new HashMap<>();
    Map<String, String> prompts = new HashMap<>();
    int[] agree = new int[2];
    int[] total = new int[2];
    int[] longerChosen = new int[2];
    for (SimulatedEvent e : simulator.next(60_000)) {
      Object payload = e.event().getPayload();
      if (payload instanceof Exposure x) {
        texts.put(x.getResponseId(), x.getResponse());
        prompts.put(x.getResponseId(), x.getPrompt());
      } else if (payload instanceof PairwiseChoice c) {
        Instant at = e.event().getOccurredAt();
        int phase = at.isBefore(shift) ? 0 : 1;
        String chosen = texts.get(c.getChosenResponseId());
        String rejected = texts.get(c.getRejectedResponseId());
        String prompt = prompts.get(c.getChosenResponseId());
        if (simulator.trueUtility(prompt, chosen, at)
            != simulator.trueUtility(prompt, rejected, at)) {
          total[phase]++;
          agree[phase] += simulator.agreesWithTruth(prompt, chosen, rejected, at) ? 1 : 0;
          longerChosen[phase] += chosen.length() > rejected.length() ? 1 : 0;
        }
      }
    }
    assertThat(total[0]).isGreaterThan(1000);
    assertThat(total[1]).isGreaterThan(1000);
    assertThat(agree[0] / (double) total[0]).isBetween(0.65, 0.95); // noisy, but informative
    assertThat(agree[1] / (double) total[1]).isBetween(0.65, 0.95);
    assertThat(longerChosen[0] / (double) total[0]).isGreaterThan(0.55);
    assertThat(longerChosen[1] / (double) total[1]).isLessThan(0.45);
  }

  @Test
  void adversarialAnnotatorsLabelAgainstTheTruth() {
    SimulatorConfig config =
        SimulatorConfig.builder(START)
            .optMix(Mix.parse("labeled_pair=1"))
            .optAnnotators(0, 1)
            .build();
    Simulator simulator = new Simulator(config);
    int against = 0;
    int total = 0;
    for (SimulatedEvent e : simulator.next(2000)) {
      LabeledPair pair = (LabeledPair) e.event().getPayload();
      Instant at = e.event().getOccurredAt();
      if (simulator.trueUtility(pair.getPrompt(), pair.getChosen(), at)
          != simulator.trueUtility(pair.getPrompt(), pair.getRejected(), at)) {
        total++;
        against +=
            simulator.agreesWithTruth(pair.getPrompt(), pair.getChosen(), pair.getRejected(), at)
                ? 0
                : 1;
      }
    }
    assertThat(against).isEqualTo(total).isPositive();
  }

  @Test
  void newTopicScenarioBringsLongerPrompts() {
    Instant newTopic = START.plus(Duration.ofMinutes(10));
    Simulator simulator =
        new Simulator(SimulatorConfig.builder(START).optNewTopicAt(newTopic).build());
    double[] length = new double[2];
    int[] count = new int[2];
    for (SimulatedEvent e : simulator.next(30_000)) {
      if (e.event().getPayload() instanceof Exposure x) {
        int phase = e.event().getOccurredAt().isBefore(newTopic) ? 0 : 1;
        length[phase] += x.getPrompt().length();
        count[phase]++;
      }
    }
    assertThat(length[1] / count[1]).isGreaterThan(2 * length[0] / count[0]);
  }

  @Test
  void traitsAreReadOffTheText() {
    Traits t = Traits.of("Happy to help! I might be wrong, but\n- one\n- two\n```\ncode\n```");

    assertThat(t.polite()).isEqualTo(1);
    assertThat(t.hedge()).isEqualTo(1);
    assertThat(t.list()).isEqualTo(1);
    assertThat(t.code()).isEqualTo(1);
    assertThat(Traits.technical("How do I reverse a list in Python?")).isTrue();
    assertThat(Mix.parse("pairwise=1,thumb=0").pairwise()).isEqualTo(1.0);
  }
}
