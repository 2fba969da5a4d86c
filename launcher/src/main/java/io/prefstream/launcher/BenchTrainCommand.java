package io.prefstream.launcher;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.config.Settings;
import io.prefstream.local.LocalKafka;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.ngram.NgramFeaturizer;
import io.prefstream.model.ngram.StructureFeatures;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.OnlineTrainer;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerMetrics;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench train}: simulated pairs written to {@code prefstream.pairs} beforehand, then read
 * and trained to the end by the online trainer (checkpoints included), a few rounds from scratch.
 * Baseline in the same run: a plain libtorch matmul the size of the model's hidden layer; the ratio
 * compares the trainer's achieved FLOP/s (counted from the model's shape and the measured features
 * per text) with the matmul's.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Online-trainer pairs/s on simulated pairs vs a plain libtorch matmul's FLOP/s; last line:"
            + " JSON figures.")
public final class BenchTrainCommand implements Runnable {

  @Option(
      names = "--pairs",
      description = "Pairs written beforehand. Default: ${DEFAULT-VALUE}.",
      defaultValue = "40000")
  int pairs;

  @Option(
      names = "--rounds",
      description = "Measured rounds, each training from scratch. Default: ${DEFAULT-VALUE}.",
      defaultValue = "3")
  int rounds;

  @Option(
      names = "--set",
      description = "A trainer.* or model.* setting for the trainer, KEY=VALUE (repeatable).")
  Map<String, String> settings = new HashMap<>();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Topics topics = Topics.withPrefix("bench-train");
    try (LocalKafka kafka = LocalKafka.builder().optPort(0).optTopics(topics).build().start()) {
      List<PreferencePair> written = writePairs(kafka, topics.pairs(), out);
      long train = written.stream().filter(p -> p.getSplit() == Split.TRAIN).count();
      Map<String, String> s = new HashMap<>(settings);
      s.put("trainer.bootstrap-servers", kafka.bootstrapServers());
      s.put("trainer.topic-prefix", topics.prefix());
      TrainerConfig base = TrainerConfig.from(Settings.of(s));
      ModelSpec model = base.model();
      out.printf(
          "bench train: %s %s, batch %d + %.0f%% replay, %d cores, engine %s%n",
          model.type(),
          model.config(),
          base.batchSize(),
          100 * base.replayShare(),
          Runtime.getRuntime().availableProcessors(),
          Engine.getEngine("PyTorch").getVersion());

      double flopsPerPair = flopsPerFreshPair(model, base, written);
      List<Double> rates = new ArrayList<>();
      List<Double> matmul = new ArrayList<>();
      for (int round = 0; round <= rounds; round++) {
        double rate = trainRound(base, train, out);
        double gflops = matmulGflops(model, base);
        String label = round == 0 ? "warm-up" : "round " + round;
        out.printf(
            "%s: trainer %,.0f pairs/s (%.2f GFLOP/s achieved); matmul %.1f GFLOP/s%n",
            label, rate, rate * flopsPerPair / 1e9, gflops);
        if (round > 0) {
          rates.add(rate);
          matmul.add(gflops);
        }
      }
      double rate = Bench.median(rates);
      double gflops = Bench.median(matmul);
      double atMatmul = gflops * 1e9 / flopsPerPair;
      out.printf(
          "median: %,.0f pairs/s; %.2f GFLOP/s achieved = %.3f of the matmul's %.1f GFLOP/s%n",
          rate, rate * flopsPerPair / 1e9, rate / atMatmul, gflops);
      ObjectNode figures =
          Bench.figures(
              "train", rate, "pairs/s", "pairs/s at plain libtorch matmul FLOP/s", atMatmul);
      figures.put("model", model.type());
      figures.put("achieved_gflops", Math.round(rate * flopsPerPair / 1e7) / 100.0);
      figures.put("matmul_gflops", Math.round(gflops * 100) / 100.0);
      figures.put("flops_per_pair", Math.round(flopsPerPair));
      figures.put("pairs", train);
      figures.put("rounds", rounds);
      out.println(figures);
    } catch (Exception e) {
      throw new UserError("bench train failed: " + e.getMessage(), e);
    }
  }

  private List<PreferencePair> writePairs(
      LocalKafka kafka, Topic<PreferencePair> topic, PrintWriter out) {
    Simulator simulator =
        new Simulator(SimulatorConfig.builder(Instant.now().minus(Duration.ofDays(1))).build());
    List<PreferencePair> list = new DirectPairs(simulator, 20).next(pairs);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30)).producer()) {
      for (PreferencePair p : list) {
        producer.send(
            new ProducerRecord<>(
                topic.name(),
                topic.key(p).getBytes(StandardCharsets.UTF_8),
                topic.valueSerde().serialize(topic.name(), p)));
      }
      producer.flush();
    }
    out.printf("wrote %,d simulated pairs%n", list.size());
    return list;
  }

  /** Trains every pair from scratch; pairs/s from the first poll to the last pair trained. */
  private static double trainRound(TrainerConfig base, long train, PrintWriter out)
      throws Exception {
    Path store = Files.createTempDirectory("prefstream-bench-train");
    TrainerConfig config =
        new TrainerConfig(
            base.bootstrapServers(),
            base.topicPrefix(),
            store,
            base.modelName(),
            base.sharedModel(),
            base.model(),
            base.device(),
            base.learner(),
            base.seed(),
            base.batchSize(),
            base.maxBatchDelay(),
            base.replayShare(),
            base.replayCapacity(),
            base.prequentialWindow(),
            base.holdoutWindow(),
            base.checkpointSteps(),
            base.checkpointInterval(),
            base.gateTolerance(),
            base.gateMinHoldout(),
            base.kafka());
    OnlineTrainer trainer = OnlineTrainer.kafka(config, TrainerMetrics.inMemory());
    long started = System.nanoTime();
    CompletableFuture<?> run =
        CompletableFuture.runAsync(
            () -> {
              try (trainer) {
                trainer.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    long done;
    while (true) {
      var status = trainer.status().get("demo");
      if (status != null && status.pairsTrained() >= train) {
        done = System.nanoTime();
        break;
      }
      if (run.isDone()) {
        run.get();
        throw new IllegalStateException("the trainer stopped before training every pair");
      }
      Thread.sleep(5);
    }
    trainer.stop();
    run.get(2, TimeUnit.MINUTES);
    return train / ((done - started) / 1e9);
  }

  /**
   * Floating-point operations per fresh pair: its two candidates scored once (prequential) and
   * trained (forward + backward ≈ 3 forwards), plus the replayed pairs' training.
   */
  private static double flopsPerFreshPair(
      ModelSpec model, TrainerConfig config, List<PreferencePair> sample) {
    NgramFeaturizer featurizer = NgramFeaturizer.of(model);
    double features = 0;
    int n = Math.min(2000, sample.size());
    for (PreferencePair p : sample.subList(0, n)) {
      var f = featurizer.featurize(p.getPrompt(), p.getChosen());
      features += f.prompt().size() + f.response().size();
    }
    features /= n;
    int d = model.get(ModelOptions.EMBEDDING_DIM);
    int h = model.get(ModelOptions.HIDDEN);
    int in = 3 * d + StructureFeatures.SIZE;
    double forward = 2 * features * d + d + 2.0 * in * h + 2.0 * h;
    double replayPerFresh = config.replayShare() / (1 - config.replayShare());
    return 2 * forward * (1 + 3) + 2 * forward * 3 * replayPerFresh;
  }

  /** GFLOP/s of a plain matmul the shape of the model's hidden layer over one step's candidates. */
  private static double matmulGflops(ModelSpec model, TrainerConfig config) {
    int rows = (int) Math.round(2 * config.batchSize() / (1 - config.replayShare()));
    int in = 3 * model.get(ModelOptions.EMBEDDING_DIM) + StructureFeatures.SIZE;
    int h = model.get(ModelOptions.HIDDEN);
    try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager()) {
      NDArray a = manager.randomNormal(new Shape(rows, in));
      NDArray b = manager.randomNormal(new Shape(in, h));
      for (int i = 0; i < 50; i++) {
        a.matMul(b).close();
      }
      int reps = 0;
      long started = System.nanoTime();
      while (System.nanoTime() - started < 1_000_000_000L) {
        try (NDArray c = a.matMul(b)) {
          c.getFloat(0, 0);
        }
        reps++;
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      return 2.0 * rows * in * h * reps / seconds / 1e9;
    }
  }
}
