package io.prefstream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.launcher.UserError;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoPlanTest {

  /** The simulation options as the command line leaves them by default. */
  private static SimulationOptions simulation(String... args) {
    DemoCommand demo = new DemoCommand();
    new CommandLine(demo).parseArgs(args);
    return demo.simulation;
  }

  private static DemoPlan plan(
      String scenario, SimulationOptions simulation, boolean eventsGiven, double rate) {
    return DemoPlan.of(scenario, simulation, eventsGiven, rate, null, "ngram-mlp", null, 0, 0, 0);
  }

  @Test
  void aSteadyRunSendsTheGivenEventsAtTheGivenRate() {
    DemoPlan p = plan("steady", simulation("--events", "3000"), true, 250);

    assertThat(p.events()).isEqualTo(3000);
    assertThat(p.untilStopped()).isFalse();
    assertThat(p.rankRate()).isEqualTo(10);
    assertThat(p.poisoning()).isFalse();
    assertThat(p.users().shiftAt()).isNull();
  }

  @Test
  void scenariosBringTheirDefaults() {
    SimulationOptions shifting = simulation("--events", "1000");
    DemoPlan shift = plan("preference-shift", shifting, true, 250);
    SimulationOptions bad = simulation("--events", "1000");
    plan("bad-input", bad, true, 250);
    DemoPlan poisoned = plan("poisoned-checkpoint", simulation(), false, 250);
    DemoPlan poisonedShort = plan("poisoned-checkpoint", simulation("--events", "500"), true, 250);

    assertThat(shifting.shiftAfter).isEqualTo(0.5);
    assertThat(shift.users().shiftAt()).isNotNull();
    assertThat(bad.malformedShare).isGreaterThanOrEqualTo(0.3);
    assertThat(poisoned.events()).isEqualTo(DemoPlan.POISONED_EVENTS);
    assertThat(poisoned.poisoning()).isTrue();
    assertThat(poisonedShort.events()).isEqualTo(500);
  }

  @Test
  void anEncoderAsksForBestOfNOnceASecondUnlessTold() {
    DemoPlan encoder =
        DemoPlan.of("steady", simulation(), true, 250, null, "encoder", null, 0, 0, 0);
    DemoPlan told = DemoPlan.of("steady", simulation(), true, 250, 3.0, "encoder", null, 0, 0, 0);

    assertThat(encoder.rankRate()).isEqualTo(1);
    assertThat(told.rankRate()).isEqualTo(3);
    assertThat(encoder.trainerDefaults().get(io.prefstream.trainer.TrainerOptions.HOLDOUT_WINDOW))
        .isEqualTo(300);
  }

  @Test
  void whatCannotRunIsRefusedNamingTheOption() {
    assertThatThrownBy(() -> plan("calm", simulation(), false, 250))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("--scenario must be one of steady, preference-shift");
    assertThatThrownBy(
            () ->
                DemoPlan.of(
                    "poisoned-checkpoint",
                    simulation(),
                    false,
                    250,
                    null,
                    null,
                    Path.of("hh.jsonl.gz"),
                    0,
                    0,
                    0))
        .hasMessageContaining("not --dataset");
    assertThatThrownBy(() -> plan("steady", simulation("--events", "-1"), true, 250))
        .hasMessageContaining("--events must be 0 (until Ctrl-C) or more, got -1");
    assertThatThrownBy(() -> plan("steady", simulation("--events", "0"), true, 0))
        .hasMessageContaining("--events 0 (until Ctrl-C) needs a --rate above 0");
    assertThatThrownBy(() -> plan("preference-shift", simulation("--events", "0"), true, 100))
        .hasMessageContaining("--shift-after and --new-topic-after place a change");
    assertThatThrownBy(() -> plan("steady", simulation("--events", "10"), true, -1))
        .hasMessageContaining("--rate and --rank-rate must not be negative");
  }

  @Test
  void aRunUntilStoppedFollowsTheWallClock() {
    DemoPlan live = plan("steady", simulation("--events", "0"), true, 100);

    assertThat(live.untilStopped()).isTrue();
    assertThat(live.users().start())
        .isBetween(java.time.Instant.now().minusSeconds(60), java.time.Instant.now());
  }
}
