package io.prefstream.launcher.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.config.Settings;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.launcher.demo.TruePreference;
import io.prefstream.launcher.stack.ServiceKind;
import io.prefstream.local.LocalKafka;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.embed.EmbedMlp;
import io.prefstream.model.embed.SentenceEncoder;
import io.prefstream.model.ngram.NgramFeaturizer;
import io.prefstream.model.ngram.StructureFeatures;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.TenantModel;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerMetrics;
import io.prefstream.trainer.TrainerService;
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
      names = "--warm-up-rounds",
      description =
          "Rounds run first and not counted: the JVM compiles the trainer's hot loops over the"
              + " first ~150k pairs, and the trainer is a long-running service, so its steady"
              + " speed is the figure. Default: ${DEFAULT-VALUE}.",
      defaultValue = "4")
  int warmUpRounds;

  @Option(
      names = "--set",
      description = "A trainer.* or model.* setting for the trainer, KEY=VALUE (repeatable).")
  Map<String, String> settings = new HashMap<>();

  @Option(
      names = "--quality-pairs",
      description =
          "Pairs of the simulated-product quality phase before its preference shift (as many"
              + " after); 0 skips it. Default: ${DEFAULT-VALUE}.",
      defaultValue = "20000")
  int qualityPairs;

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
      boolean embed = model.type().equals("embed-mlp");
      boolean encoder = model.type().equals("encoder");
      // As the trainer will: the matmul baseline then runs on the same engine threads.
      int engineThreads =
          io.prefstream.model.Devices.useEngineThreads(base.engineThreads(), model.type());
      out.printf(
          "bench train: %s %s, batch %d + %.0f%% replay, %d cores, engine %s on %s with %d"
              + " intra-op threads%n",
          model.type(),
          model.config(),
          base.batchSize(),
          100 * base.replayShare(),
          Runtime.getRuntime().availableProcessors(),
          Engine.getEngine("PyTorch").getVersion(),
          io.prefstream.model.Devices.resolve(base.device()),
          engineThreads);

      double flopsPerPair = flopsPerFreshPair(model, base, written);
      double encoderTextsPerSecond = embed ? encoderTextsPerSecond(model, written, out) : 0;
      List<Double> rates = new ArrayList<>();
      List<Double> matmul = new ArrayList<>();
      double coldRate = 0;
      double encodedPerPair = 0;
      double hitShare = 0;
      int warmUps = Math.max(1, warmUpRounds);
      List<Double> raws = new ArrayList<>();
      for (int round = 1 - warmUps; round <= rounds; round++) {
        long[] before = embed ? EmbedMlp.sharedEncoder(model).counts() : new long[2];
        double rate = trainRound(kafka, topics, Settings.of(settings), train);
        String label = round <= 0 ? "warm-up " + (round + warmUps) : "round " + round;
        if (encoder) {
          double raw = rawPairsPerSecond(base, written);
          out.printf(
              "%s: trainer %,.2f pairs/s (%.2f GFLOP/s achieved); raw forward+backward of the"
                  + " same batches %,.2f pairs/s%n",
              label, rate, rate * flopsPerPair / 1e9, raw);
          if (round > 0) {
            rates.add(rate);
            raws.add(raw);
          }
          continue;
        }
        double gflops = matmulGflops(model, base);
        out.printf(
            "%s: trainer %,.0f pairs/s (%.2f GFLOP/s achieved); matmul %.1f GFLOP/s%n",
            label, rate, rate * flopsPerPair / 1e9, gflops);
        if (embed && round == 1 - warmUps) {
          long[] after = EmbedMlp.sharedEncoder(model).counts();
          long encoded = after[0] - before[0];
          long hits = after[1] - before[1];
          coldRate = rate;
          encodedPerPair = (double) encoded / train;
          hitShare = (double) hits / Math.max(1, hits + encoded);
          out.printf(
              "  cold cache: %,d texts encoded (%.2f per pair), %.1f%% cache hits; encoder alone"
                  + " %.0f texts/s, so %.3f of the time went to encoding%n",
              encoded,
              encodedPerPair,
              100 * hitShare,
              encoderTextsPerSecond,
              rate * encodedPerPair / encoderTextsPerSecond);
        }
        if (round > 0) {
          rates.add(rate);
          matmul.add(gflops);
        }
      }
      double rate = Bench.median(rates);
      BenchLine figures;
      double gflops = encoder ? Double.NaN : Bench.median(matmul);
      if (encoder) {
        double raw = Bench.median(raws);
        out.printf(
            "median: %,.2f pairs/s = %.3f of the raw forward+backward's %,.2f pairs/s%n",
            rate, rate / raw, raw);
        figures =
            BenchLine.of(
                "train",
                rate,
                "pairs/s",
                "pairs/s of the raw forward and backward passes of the same batches",
                raw);
      } else {
        double atMatmul = gflops * 1e9 / flopsPerPair;
        out.printf(
            "median%s: %,.0f pairs/s; %.2f GFLOP/s achieved = %.3f of the matmul's %.1f GFLOP/s%n",
            embed ? " (head from cached embeddings)" : "",
            rate,
            rate * flopsPerPair / 1e9,
            rate / atMatmul,
            gflops);
        if (embed) {
          // Value: pairs/s with a cold cache; baseline: the pairs/s the encoder alone could feed.
          double encoderPairs = encoderTextsPerSecond / Math.max(1e-9, encodedPerPair);
          figures =
              BenchLine.of(
                  "train",
                  coldRate,
                  "pairs/s",
                  "pairs/s the raw encoder alone can feed",
                  encoderPairs);
          figures.with("encoder_texts_per_s", Math.round(encoderTextsPerSecond));
          figures.with("encoded_texts_per_pair", Math.round(encodedPerPair * 1000) / 1000.0);
          figures.with("cache_hit_share", Math.round(hitShare * 1000) / 1000.0);
          figures.with("cached_head_pairs_per_s", Math.round(rate));
          figures.with("cached_head_flops_ratio", Math.round(rate / atMatmul * 1000) / 1000.0);
        } else {
          figures =
              BenchLine.of(
                  "train", rate, "pairs/s", "pairs/s at plain libtorch matmul FLOP/s", atMatmul);
        }
        figures.with("matmul_gflops", Math.round(gflops * 100) / 100.0);
      }
      ObjectNode quality = qualityPairs > 0 ? quality(base, out) : null;
      figures.with("model", model.type());
      figures.with("achieved_gflops", Math.round(rate * flopsPerPair / 1e7) / 100.0);
      figures.with("flops_per_pair", Math.round(flopsPerPair));
      figures.with("pairs", train);
      figures.with("rounds", rounds);
      figures.with("warm_up_rounds", warmUps);
      if (quality != null) {
        figures.with("quality", quality);
      }
      out.println(figures);
    } catch (Exception e) {
      throw new UserError("bench train failed: " + e.getMessage(), e);
    }
  }

  /**
   * The encoder's baseline: its raw forward and backward passes over steps of the trainer's shape
   * (batch-size fresh pairs and the replay share, in the same passes of similar length, each padded
   * to its longest member) of the same data, tokenized beforehand; no Kafka, no tokenizing, no
   * optimizer, no scoring, no checkpoints. Fresh pairs per second.
   */
  private static double rawPairsPerSecond(TrainerConfig config, List<PreferencePair> written) {
    List<io.prefstream.trainer.TrainingPair> pairs = new ArrayList<>();
    for (PreferencePair p : written) {
      if (p.getSplit() == Split.TRAIN) {
        pairs.add(io.prefstream.trainer.TrainingPair.of(p));
      }
    }
    int fresh = config.batchSize();
    int replay = (int) Math.round(fresh * config.replayShare() / (1 - config.replayShare()));
    int steps = Math.max(2, Math.min(6, pairs.size() / (fresh + replay)));
    try (io.prefstream.trainer.Learner learner =
        new io.prefstream.trainer.Learner(
            io.prefstream.model.RewardModels.create(
                config.model(), io.prefstream.model.Devices.resolve(config.device())),
            config.learner())) {
      List<io.prefstream.trainer.Learner.Batch> batches = new ArrayList<>();
      for (int i = 0; i < steps; i++) {
        int from = i * (fresh + replay);
        batches.add(
            learner.prepare(
                pairs.subList(from, from + fresh),
                pairs.subList(from + fresh, from + fresh + replay)));
      }
      learner.forwardBackward(batches.get(0)); // warm-up
      long started = System.nanoTime();
      for (var batch : batches.subList(1, batches.size())) {
        learner.forwardBackward(batch);
      }
      return (double) (steps - 1) * fresh / ((System.nanoTime() - started) / 1e9);
    }
  }

  /** Raw encoder speed on distinct texts of the data, no cache: the embed-mlp baseline. */
  private static double encoderTextsPerSecond(
      ModelSpec model, List<PreferencePair> sample, PrintWriter out) {
    java.util.LinkedHashSet<String> distinct = new java.util.LinkedHashSet<>();
    for (PreferencePair p : sample) {
      distinct.addAll(EmbedMlp.texts(new Candidate(p.getPrompt(), p.getChosen())));
      distinct.add(p.getRejected());
      if (distinct.size() >= 1200) {
        break;
      }
    }
    List<String> texts = new ArrayList<>(distinct);
    try (SentenceEncoder raw =
        new SentenceEncoder(
            model.get(ModelOptions.ENCODER), model.get(ModelOptions.ENCODER_SESSIONS), 0)) {
      raw.embed(texts.subList(0, 200)); // warm-up
      long started = System.nanoTime();
      raw.embed(texts.subList(200, texts.size()));
      double rate = (texts.size() - 200) / ((System.nanoTime() - started) / 1e9);
      out.printf(
          "encoder %s alone: %.0f texts/s (%d sessions of one thread)%n",
          raw.name(), rate, model.get(ModelOptions.ENCODER_SESSIONS));
      return rate;
    }
  }

  /**
   * The simulated product's quality: agreement of the learned reward with the users' true utility
   * on fresh pairs before its preference shift, then how many pairs after the shift the trainer
   * needs to regain that agreement (within one point) against the new preferences. Beside it, in
   * the same run, a fresh model trained on the same post-shift pairs only: what a learner with no
   * memory of the old preferences reaches, so that the adaptation is measured against the
   * difficulty of the new preferences themselves. The pre-shift agreement is the mean of the last
   * four points (2,000 pairs): one point's noise (± 0.009) would move the bar.
   */
  private ObjectNode quality(TrainerConfig base, PrintWriter out) throws Exception {
    Instant start = Instant.parse("2026-01-01T00:00:00Z");
    Duration step = Duration.ofMillis(100);
    // Pairs per interaction is about 0.6 with the default mix: shift after ~qualityPairs pairs.
    Instant shiftAt = start.plus(step.multipliedBy((long) (qualityPairs / 0.6)));
    SimulatorConfig config =
        SimulatorConfig.builder(start).optStep(step).optShiftAt(shiftAt).build();
    DirectPairs stream = new DirectPairs(new Simulator(config), Integer.MAX_VALUE);
    ObjectNode q = io.prefstream.schemas.JsonForm.mapper().createObjectNode();
    TenantModel fresh = null;
    try (TenantModel model = TenantModel.fresh("bench", base, TrainerMetrics.inMemory())) {
      long trained = 0;
      double before = Double.NaN;
      List<double[]> curve = new ArrayList<>();
      List<double[]> freshCurve = new ArrayList<>();
      long shiftedAt = -1;
      long recovered = -1;
      long freshRecovered = -1;
      while (trained < 3L * qualityPairs && (recovered < 0 || freshRecovered < 0)) {
        List<PreferencePair> chunk = stream.next(500);
        Instant now = chunk.get(chunk.size() - 1).getEventTime();
        if (shiftedAt < 0 && !now.isBefore(shiftAt)) {
          shiftedAt = trained;
          before = meanOfLast(curve, 4);
          fresh = TenantModel.fresh("bench-fresh", base, TrainerMetrics.inMemory());
          out.printf("  preference shift after %,d pairs (agreement then %.3f)%n", trained, before);
        }
        for (PreferencePair p : chunk) {
          model.addTrain(io.prefstream.trainer.TrainingPair.of(p), 0);
          if (fresh != null) {
            fresh.addTrain(io.prefstream.trainer.TrainingPair.of(p), 0);
          }
        }
        model.trainPending();
        trained += chunk.size();
        double agreement =
            TruePreference.agreement(model.learner().model(), config, now, 1000).orElse(Double.NaN);
        curve.add(new double[] {trained, agreement});
        if (fresh != null) {
          fresh.trainPending();
          double f =
              TruePreference.agreement(fresh.learner().model(), config, now, 1000)
                  .orElse(Double.NaN);
          freshCurve.add(new double[] {trained, f});
          if (recovered < 0 && agreement >= before - 0.01) {
            recovered = trained - shiftedAt;
            out.printf("  regained %.3f after %,d post-shift pairs%n", agreement, recovered);
          }
          if (freshRecovered < 0 && f >= before - 0.01) {
            freshRecovered = trained - shiftedAt;
          }
        }
      }
      q.put("pairs_before_shift", shiftedAt);
      q.put("true_preference_agreement", Math.round(before * 1000) / 1000.0);
      putPairs(q, "shift_recovery_pairs", recovered);
      putPairs(q, "fresh_model_recovery_pairs", freshRecovered);
      for (int after : new int[] {1000, 2000, 5000}) {
        q.put("agreement_" + after + "_after_shift", pointAfter(curve, shiftedAt + after));
        q.put(
            "fresh_model_agreement_" + after + "_after_shift",
            pointAfter(freshCurve, shiftedAt + after));
      }
      putCurve(q, "agreement_curve", curve);
      putCurve(q, "fresh_model_agreement_curve", freshCurve);
      out.printf(
          "quality: agreement with the true preferences %.3f over the last 2,000 of %,d pairs;"
              + " after the shift %s (a fresh model on the same pairs: %s)%n",
          before,
          shiftedAt,
          recovered < 0
              ? "not regained within " + (trained - shiftedAt) + " pairs"
              : "regained after " + recovered + " pairs",
          freshRecovered < 0 ? "not within " + (trained - shiftedAt) : freshRecovered);
      return q;
    } finally {
      if (fresh != null) {
        fresh.close();
      }
    }
  }

  private static double meanOfLast(List<double[]> curve, int points) {
    return curve.subList(Math.max(0, curve.size() - points), curve.size()).stream()
        .mapToDouble(p -> p[1])
        .average()
        .orElse(Double.NaN);
  }

  /** The agreement at the first point at or after {@code pairs} trained (NaN: none). */
  private static double pointAfter(List<double[]> curve, long pairs) {
    return curve.stream()
        .filter(p -> p[0] >= pairs)
        .mapToDouble(p -> Math.round(p[1] * 1000) / 1000.0)
        .findFirst()
        .orElse(Double.NaN);
  }

  private static void putPairs(ObjectNode q, String name, long pairs) {
    if (pairs < 0) {
      q.putNull(name);
    } else {
      q.put(name, pairs);
    }
  }

  private static void putCurve(ObjectNode q, String name, List<double[]> curve) {
    var points = q.putArray(name);
    for (double[] point : curve) {
      points.addArray().add((long) point[0]).add(Math.round(point[1] * 1000) / 1000.0);
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

  /** Trains every pair from scratch into a fresh store; pairs/s from start to the last pair. */
  private static double trainRound(LocalKafka kafka, Topics topics, Settings settings, long train)
      throws Exception {
    Path dataDir = Files.createTempDirectory("prefstream-bench-train");
    long started = System.nanoTime();
    TrainerConfig config =
        TrainerConfig.from(
            ServiceKind.TRAINER.settings(
                settings, Settings.empty(), kafka.bootstrapServers(), topics, dataDir, null));
    try (TrainerService trainer =
        TrainerService.start(config, new TrainerMetrics(new SimpleMeterRegistry()))) {
      if (!trainer.awaitTrained("demo", train, Duration.ofMinutes(30))) {
        throw new IllegalStateException("the trainer did not train every pair");
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      trainer.stop(Duration.ofMinutes(2));
      return train / seconds;
    }
  }

  /**
   * Floating-point operations per fresh pair: its two candidates trained (forward + backward ~ 3
   * forwards), scored once more when the model has dropout (prequential), plus the replayed pairs'
   * training. Forward passes are counted from the model's shape and the data's measured sizes
   * (n-grams per text, tokens per sequence); the encoder of embed-mlp is not counted.
   */
  private static double flopsPerFreshPair(
      ModelSpec model, TrainerConfig config, List<PreferencePair> sample) {
    int n = Math.min(2000, sample.size());
    int d = model.get(ModelOptions.EMBEDDING_DIM);
    int h = model.get(ModelOptions.HIDDEN);
    double forward;
    switch (model.type()) {
      case "embed-mlp" -> {
        int in = 3 * SentenceEncoder.DIMENSION + StructureFeatures.SIZE;
        forward = 2.0 * in * h + 2.0 * h;
      }
      case "encoder" -> {
        // Per token: the layers' matmuls (4H² for attention projections, 2HI for the MLP) and
        // attention's two T×T products, both times 2 FLOP per multiply-add.
        io.prefstream.model.encoder.EncoderConfig c;
        double tokens = 0;
        try (var reward =
            (io.prefstream.model.encoder.EncoderReward)
                io.prefstream.model.RewardModels.create(model, ai.djl.Device.cpu())) {
          c = reward.config();
          List<Candidate> candidates = new ArrayList<>();
          for (PreferencePair p : sample.subList(0, n)) {
            candidates.add(new Candidate(p.getPrompt(), p.getChosen()));
          }
          var prepared = reward.prepare(candidates);
          for (int i = 0; i < n; i++) {
            tokens += prepared.length(i);
          }
        }
        double t = tokens / n;
        double hidden = c.hidden();
        forward =
            c.layers()
                * t
                * 2.0
                * (4 * hidden * hidden + 2 * hidden * c.intermediate() + 2 * t * hidden);
      }
      case "transformer" -> {
        double tokens = 0;
        int max = model.get(ModelOptions.MAX_TOKENS);
        for (PreferencePair p : sample.subList(0, n)) {
          int prompt = Math.min(NgramFeaturizer.wordHashes(p.getPrompt()).length, (max - 2) / 4);
          tokens += Math.min(max, 2 + prompt + NgramFeaturizer.wordHashes(p.getChosen()).length);
        }
        double t = tokens / n;
        int layers = model.get(ModelOptions.LAYERS);
        forward =
            layers * t * 2.0 * (12.0 * d * d + 2.0 * t * d)
                + 2.0 * (d + StructureFeatures.SIZE) * h;
      }
      default -> {
        NgramFeaturizer featurizer = NgramFeaturizer.of(model);
        double features = 0;
        for (PreferencePair p : sample.subList(0, n)) {
          var f = featurizer.featurize(p.getPrompt(), p.getChosen());
          features += f.prompt().size() + f.response().size();
        }
        features /= n;
        int in = 3 * d + StructureFeatures.SIZE;
        forward = 2 * features * d + d + 2.0 * in * h + 2.0 * h;
      }
    }
    boolean scoredApart = model.get(ModelOptions.DROPOUT) > 0;
    double replayPerFresh = config.replayShare() / (1 - config.replayShare());
    return 2 * forward * (3 + (scoredApart ? 1 : 0)) + 2 * forward * 3 * replayPerFresh;
  }

  /** GFLOP/s of a plain matmul the shape of the model's hidden layer over one step's candidates. */
  private static double matmulGflops(ModelSpec model, TrainerConfig config) {
    int rows = (int) Math.round(2 * config.batchSize() / (1 - config.replayShare()));
    int d = model.get(ModelOptions.EMBEDDING_DIM);
    int in =
        switch (model.type()) {
          case "embed-mlp" -> 3 * SentenceEncoder.DIMENSION + StructureFeatures.SIZE;
          case "transformer" -> d;
          default -> 3 * d + StructureFeatures.SIZE;
        };
    int h = model.type().equals("transformer") ? 4 * d : model.get(ModelOptions.HIDDEN);
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
