package io.prefstream.launcher.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.config.Settings;
import io.prefstream.launcher.UserError;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.schemas.JsonForm;
import io.prefstream.trainer.Datasets;
import io.prefstream.trainer.OfflineTrainer;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerMetrics;
import io.prefstream.trainer.TrainerOptions;
import io.prefstream.trainer.TrainingPair;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code train}: trains a reward model offline on preference datasets through the same learner and
 * checkpoint code as the online trainer, and writes a checkpoint that {@code checkpoint publish}
 * can announce.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Train a reward model offline on jsonl(.gz) pairs (HH-RLHF chosen/rejected dialogues or"
            + " {prompt, chosen, rejected}) or PandaLM-style JSON; last line: JSON figures.")
public final class TrainCommand implements Runnable {

  @Option(
      names = "--dataset",
      paramLabel = "FILE",
      required = true,
      description =
          "Training data (repeatable); a stable share of each (by a hash of the chosen reply) is"
              + " held out for evaluation.")
  List<Path> datasets;

  @Option(
      names = "--eval",
      paramLabel = "FILE",
      description = "Extra evaluation data, never trained on (repeatable).")
  List<Path> evals = new ArrayList<>();

  @Option(
      names = "--epochs",
      defaultValue = "1",
      description = "Passes over the training pairs. Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Option(
      names = "--schedule",
      defaultValue = "linear",
      description =
          "The learning rate after warm-up: linear (decays to zero over the run, as offline"
              + " training does) or constant (as the online trainer keeps it; with --epochs 1 this"
              + " is an online pass over the data). Default: ${DEFAULT-VALUE}.")
  String schedule;

  @Option(
      names = "--holdout-share",
      defaultValue = "0.2",
      description = "Share of each dataset held out. Default: ${DEFAULT-VALUE}.")
  double holdoutShare;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      defaultValue = "checkpoints-offline",
      description = "Checkpoint store to write into. Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(
      names = "--tenant",
      defaultValue = "demo",
      description = "Tenant the checkpoint is for. Default: ${DEFAULT-VALUE}.")
  String tenant;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A properties file of trainer.* and model.* keys.")
  Path config;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "A trainer.* or model.* setting (repeatable), e.g. model.type=ngram-mlp.")
  Map<String, String> settings = new HashMap<>();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    PrintWriter printer = spec.commandLine().getOut();
    if (epochs < 1) {
      throw new UserError("--epochs must be at least 1, got " + epochs);
    }
    if (!schedule.equals("linear") && !schedule.equals("constant")) {
      throw new UserError("--schedule must be linear or constant, got '" + schedule + "'");
    }
    if (!(holdoutShare > 0 && holdoutShare < 1)) {
      throw new UserError("--holdout-share must be between 0 and 1, got " + holdoutShare);
    }
    long started = System.nanoTime();
    List<TrainingPair> train = new ArrayList<>();
    List<TrainingPair> holdout = new ArrayList<>();
    Map<String, List<TrainingPair>> evaluations = new LinkedHashMap<>();
    for (Path file : datasets) {
      Datasets.Loaded loaded = load(file);
      List<TrainingPair> held = new ArrayList<>();
      for (TrainingPair p : loaded.pairs()) {
        (Datasets.inEvalSplit(p, holdoutShare) ? held : train).add(p);
      }
      holdout.addAll(held);
      evaluations.put("holdout:" + name(file), held);
      printer.printf(
          "%s: %d pairs (%d skipped), %d held out; longer reply wins %.3f of the held-out%n",
          file, loaded.pairs().size(), loaded.skipped(), held.size(), longerWins(held));
    }
    for (Path file : evals) {
      Datasets.Loaded loaded = load(file);
      evaluations.put(name(file), loaded.pairs());
      printer.printf(
          "%s: %d evaluation pairs (%d skipped); longer reply wins %.3f%n",
          file, loaded.pairs().size(), loaded.skipped(), longerWins(loaded.pairs()));
    }
    if (train.isEmpty()) {
      throw new UserError("no training pairs in " + datasets);
    }
    Map<String, String> defaults = new HashMap<>();
    defaults.put(TrainerOptions.HOLDOUT_WINDOW.key(), String.valueOf(Math.max(10, holdout.size())));
    Settings s = Settings.of(defaults);
    if (config != null) {
      s = s.overriddenBy(Settings.fromFile(config));
    }
    s = s.overriddenBy(Settings.of(settings));
    TrainerConfig trainerConfig;
    try {
      trainerConfig = TrainerConfig.from(s);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    printer.printf(
        "training %s on %d pairs for %d epoch(s), evaluating on %d held-out pairs%n",
        trainerConfig.model().type(), train.size(), epochs, holdout.size());
    printer.flush();
    OfflineTrainer.Result result;
    try {
      result =
          new OfflineTrainer(trainerConfig, TrainerMetrics.inMemory(), schedule.equals("linear"))
              .train(
                  tenant,
                  train,
                  holdout,
                  evaluations,
                  epochs,
                  new DirectoryCheckpointStore(out),
                  progress(printer));
    } catch (IOException e) {
      throw new UserError("train: " + e.getMessage(), e);
    }
    ObjectNode figures = JsonForm.mapper().createObjectNode();
    put(figures, "holdout_accuracy", result.holdoutAccuracy());
    put(figures, "online_holdout_accuracy", result.onlineHoldoutAccuracy());
    put(figures, "prequential_accuracy", result.prequentialAccuracy());
    figures.put("pairs", result.pairs());
    figures.put("holdout_pairs", holdout.size());
    figures.put("epochs", result.epochs());
    figures.put("model", trainerConfig.model().type());
    figures.put("schedule", schedule);
    ObjectNode byEval = figures.putObject("eval_accuracy");
    result.evalAccuracy().forEach((k, v) -> put(byEval, k, v));
    ObjectNode longer = figures.putObject("longer_wins");
    evaluations.forEach((k, v) -> put(longer, k, longerWins(v)));
    figures.put("truncated_pairs", result.truncatedPairs());
    put(figures, "first_epoch_seconds", result.firstEpochSeconds());
    figures.put("checkpoint", result.checkpoint());
    figures.put("seconds", Math.round((System.nanoTime() - started) / 1e7) / 100.0);
    printer.println(figures);
    printer.flush();
  }

  /** A progress line at most every 30 seconds: pairs, rate, prequential accuracy, time left. */
  private static OfflineTrainer.Progress progress(PrintWriter printer) {
    long started = System.nanoTime();
    long[] last = {started};
    return (epoch, trained, total, prequential) -> {
      long now = System.nanoTime();
      if (now - last[0] < 30_000_000_000L && trained < total) {
        return;
      }
      last[0] = now;
      double seconds = (now - started) / 1e9;
      double rate = trained / seconds;
      printer.printf(
          "epoch %d: %,d/%,d pairs (%.0f%%), %.1f pairs/s, prequential %.3f, about %.0f min"
              + " left%n",
          epoch,
          trained,
          total,
          100.0 * trained / total,
          rate,
          prequential,
          (total - trained) / rate / 60);
      printer.flush();
    };
  }

  private static Datasets.Loaded load(Path file) {
    try {
      return Datasets.read(file);
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** A dataset's name: its parent folder for files named like test.jsonl.gz, else its file name. */
  private static String name(Path file) {
    String base = file.getFileName().toString();
    Path parent = file.toAbsolutePath().normalize().getParent();
    return base.matches("(test|train|data).*") && parent != null
        ? parent.getFileName().toString()
        : base.replaceAll("\\.(jsonl|json)(\\.gz)?$", "");
  }

  /** The "longer reply wins" reference: ties count half. */
  static double longerWins(List<TrainingPair> pairs) {
    if (pairs.isEmpty()) {
      return Double.NaN;
    }
    double wins = 0;
    for (TrainingPair p : pairs) {
      int c = p.chosen().codePointCount(0, p.chosen().length());
      int r = p.rejected().codePointCount(0, p.rejected().length());
      wins += c > r ? 1 : c == r ? 0.5 : 0;
    }
    return wins / pairs.size();
  }

  /** Rounded to 4 places; null where there is no figure (JSON has no NaN). */
  private static void put(ObjectNode node, String key, double v) {
    if (Double.isFinite(v)) {
      node.put(key, Math.round(v * 10000) / 10000.0);
    } else {
      node.putNull(key);
    }
  }
}
