package io.prefstream.launcher.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutState;
import io.prefstream.launcher.ClusterOptions;
import io.prefstream.launcher.UserError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.lag.PairLag;
import io.prefstream.scorer.rollout.RolloutCommands;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rollout status|pin|unpin|promote|rollback}: the rollout state of each tenant's model on
 * prefstream.rollouts, and manual overrides recorded with who and why.
 */
@Command(
    name = "rollout",
    mixinStandardHelpOptions = true,
    subcommands = {
      RolloutCommand.Status.class,
      RolloutCommand.Pin.class,
      RolloutCommand.Unpin.class,
      RolloutCommand.Promote.class,
      RolloutCommand.Rollback.class
    },
    description = "Show rollouts, or override the rollout controller by hand.")
public final class RolloutCommand implements Runnable {

  @Override
  public void run() {
    throw new UserError(
        "name a subcommand: status, pin, unpin, promote, rollback (./prefstream rollout --help)");
  }

  /** Kafka and which model: shared by the subcommands. */
  static final class Target {
    @Mixin ClusterOptions kafka;

    @Option(
        names = "--tenant",
        defaultValue = "demo",
        description = "Tenant. Default: ${DEFAULT-VALUE}.")
    String tenant;

    @Option(
        names = "--model",
        defaultValue = "reward",
        description = "Model name. Default: ${DEFAULT-VALUE}.")
    String model;

    RolloutCommands commands() {
      return new RolloutCommands(kafka.clients().config(), kafka.topics(), kafka.timeout());
    }
  }

  /** Who acts and why: recorded in the decision. */
  static final class Why {
    @Option(
        names = "--by",
        defaultValue = "${env:USER:-operator}",
        description = "Who acts (recorded). Default: ${DEFAULT-VALUE}.")
    String by;

    @Option(names = "--reason", required = true, description = "Why (recorded).")
    String reason;
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Every model's champion, candidate, traffic weight and recent decisions.")
  static final class Status implements Runnable {
    @Mixin ClusterOptions kafka;

    @Option(names = "--json", description = "Print each state as one JSON line.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      Map<String, RolloutState> states;
      Map<String, PairLag.Lag> lags;
      RolloutCommands commands =
          new RolloutCommands(kafka.clients().config(), kafka.topics(), kafka.timeout());
      try {
        states = commands.status();
        lags = commands.lags(states);
      } catch (RuntimeException e) {
        throw new UserError("cannot read rollouts: " + e.getMessage(), e);
      }
      if (states.isEmpty()) {
        out.println("no rollout state yet on " + kafka.topics().rollouts().name());
      }
      JsonForm<RolloutState> form = JsonForm.of(RolloutState.class);
      for (var e : states.entrySet()) {
        RolloutState s = e.getValue();
        if (json) {
          ObjectNode line = form.toJson(s);
          ObjectNode behind = line.putObject("serving_lag");
          lag(lags, e.getKey(), s.getChampionVersion())
              .ifPresent(l -> behind.putPOJO("champion", l));
          lag(lags, e.getKey(), s.getCandidateVersion())
              .ifPresent(l -> behind.putPOJO("candidate", l));
          out.println(line);
          continue;
        }
        out.printf(
            "%s: champion v%s, %s%s%n",
            e.getKey(),
            s.getChampionVersion() == null ? "-" : s.getChampionVersion(),
            s.getPhase(),
            s.getCandidateVersion() == null
                ? ""
                : String.format(
                    ", candidate v%d at %.0f%% (step %d)",
                    s.getCandidateVersion(), 100 * s.getCandidateWeight(), s.getStep()));
        StringBuilder behind = new StringBuilder();
        lag(lags, e.getKey(), s.getChampionVersion())
            .ifPresent(l -> behind.append(describe("champion", l)));
        lag(lags, e.getKey(), s.getCandidateVersion())
            .ifPresent(l -> behind.append(describe("; candidate", l)));
        if (!behind.isEmpty()) {
          out.printf("  behind the pairs topic: %s%n", behind);
        }
        var history = s.getHistory();
        for (RolloutDecision d : history.subList(Math.max(0, history.size() - 8), history.size())) {
          out.printf(
              "  %s %-9s v%-4d %5.0f%% by %s: %s%n",
              d.getAt(),
              d.getAction(),
              d.getVersion(),
              100 * d.getWeight(),
              d.getActor(),
              d.getReason());
        }
      }
      out.flush();
    }
  }

  private static java.util.Optional<PairLag.Lag> lag(
      Map<String, PairLag.Lag> lags, String model, Long version) {
    return java.util.Optional.ofNullable(version == null ? null : lags.get(model + "/v" + version));
  }

  private static String describe(String arm, PairLag.Lag l) {
    return String.format(java.util.Locale.ROOT, "%s %d pairs, %.1f s", arm, l.pairs(), l.seconds());
  }

  @Command(
      name = "pin",
      mixinStandardHelpOptions = true,
      description = "Serve VERSION to all traffic; no rollout starts until unpinned.")
  static final class Pin implements Runnable {
    @Mixin Target target;
    @Mixin Why why;

    @Parameters(paramLabel = "VERSION")
    long version;

    @Spec CommandSpec spec;

    @Override
    public void run() {
      report(
          spec,
          () -> target.commands().pin(target.tenant, target.model, version, why.by, why.reason));
    }
  }

  @Command(
      name = "unpin",
      mixinStandardHelpOptions = true,
      description = "Let the controller roll out new checkpoints again.")
  static final class Unpin implements Runnable {
    @Mixin Target target;
    @Mixin Why why;
    @Spec CommandSpec spec;

    @Override
    public void run() {
      report(spec, () -> target.commands().unpin(target.tenant, target.model, why.by, why.reason));
    }
  }

  @Command(
      name = "promote",
      mixinStandardHelpOptions = true,
      description = "Promote the current candidate to champion now.")
  static final class Promote implements Runnable {
    @Mixin Target target;
    @Mixin Why why;
    @Spec CommandSpec spec;

    @Override
    public void run() {
      report(
          spec, () -> target.commands().promote(target.tenant, target.model, why.by, why.reason));
    }
  }

  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      description =
          "Drop the current candidate; without one, return to the previous champion (and pin"
              + " it).")
  static final class Rollback implements Runnable {
    @Mixin Target target;
    @Mixin Why why;
    @Spec CommandSpec spec;

    @Override
    public void run() {
      report(
          spec, () -> target.commands().rollback(target.tenant, target.model, why.by, why.reason));
    }
  }

  private static void report(CommandSpec spec, java.util.function.Supplier<RolloutState> action) {
    RolloutState s;
    try {
      s = action.get();
    } catch (IllegalStateException | org.apache.kafka.common.KafkaException e) {
      throw new UserError(e.getMessage(), e);
    }
    RolloutDecision d = s.getHistory().get(s.getHistory().size() - 1);
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "%s/%s: %s v%d recorded by %s (%s); champion v%s, %s%n",
        s.getTenantId(),
        s.getModel(),
        d.getAction(),
        d.getVersion(),
        d.getActor(),
        d.getReason(),
        s.getChampionVersion(),
        s.getPhase());
    out.flush();
  }
}
