package io.prefstream.launcher.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.Annotator;
import io.prefstream.avro.AnnotatorKind;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.LabeledPair;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.launcher.UserError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.simulator.ProductRun;
import io.prefstream.trainer.Datasets;
import io.prefstream.trainer.TrainingPair;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Real preference data replayed through ingest as a product's annotation tool would send it: each
 * pair of a dataset file (HH-RLHF JSON Lines, {@code {prompt, chosen, rejected}}, PandaLM; see
 * {@link Datasets}) becomes one {@link LabeledPair} event over HTTP. The last pairs of the file (up
 * to {@link #JUDGED}) are held back: the scorer is asked to rank them at the end, and the share
 * where it puts the dataset's chosen reply first is the demo's agreement figure.
 */
final class DatasetReplay {

  static final int JUDGED = 200;
  private static final int MAX_TEXT = 65_536; // ingest's limit on each text

  private final Path file;
  private final String tenant;
  private final List<TrainingPair> sent;
  private final List<TrainingPair> judged;
  private final int skipped;

  private DatasetReplay(
      Path file, String tenant, List<TrainingPair> sent, List<TrainingPair> judged, int skipped) {
    this.file = file;
    this.tenant = tenant;
    this.sent = sent;
    this.judged = judged;
    this.skipped = skipped;
  }

  /** Reads the file; at most {@code events} pairs are sent, the held-back ones after them. */
  static DatasetReplay read(Path file, String tenant, int events) {
    Datasets.Loaded loaded;
    try {
      loaded = Datasets.read(file);
    } catch (IOException e) {
      throw new UserError("--dataset " + file + ": " + e.getMessage(), e);
    }
    List<TrainingPair> usable = new ArrayList<>();
    int skipped = loaded.skipped();
    for (TrainingPair p : loaded.pairs()) {
      if (p.prompt().length() > MAX_TEXT
          || p.chosen().length() > MAX_TEXT
          || p.rejected().length() > MAX_TEXT) {
        skipped++;
      } else {
        usable.add(p);
      }
    }
    if (usable.size() < 2) {
      throw new UserError("--dataset " + file + " holds no usable preference pairs");
    }
    int held = Math.min(JUDGED, usable.size() / 10);
    List<TrainingPair> judged = usable.subList(usable.size() - held, usable.size());
    List<TrainingPair> sent =
        usable.subList(0, Math.min(events, usable.size() - held)); // each pair one event
    return new DatasetReplay(file, tenant, List.copyOf(sent), List.copyOf(judged), skipped);
  }

  int size() {
    return sent.size();
  }

  int skipped() {
    return skipped;
  }

  Path file() {
    return file;
  }

  /** The {@code i}th pair as the event an annotation tool sends. */
  FeedbackEvent event(int i) {
    TrainingPair p = sent.get(i);
    return FeedbackEvent.newBuilder()
        .setEventId("ds-" + Integer.toHexString(file.getFileName().toString().hashCode()) + "-" + i)
        .setTenantId(tenant)
        .setOccurredAt(Instant.now())
        .setApp("dataset-replay")
        .setInteractionId("ds-i" + i)
        .setPayload(
            LabeledPair.newBuilder()
                .setPrompt(p.prompt())
                .setChosen(p.chosen())
                .setRejected(p.rejected())
                .setAnnotator(
                    new Annotator("dataset:" + file.getFileName(), AnnotatorKind.HUMAN, 1.0))
                .build())
        .build();
  }

  /** Sends every pair, at most {@code rate} a second, counting answers as they come. */
  ProductRun.Report run(
      FeedbackClient client,
      double rate,
      ProductRun.Progress progress,
      java.util.function.BooleanSupplier stop)
      throws InterruptedException {
    List<CompletableFuture<EventResult>> answers = new ArrayList<>();
    long started = System.nanoTime();
    for (int i = 0; i < sent.size() && !stop.getAsBoolean(); i++) {
      answers.add(client.send(event(i)));
      progress.countSent(answers.get(i));
      if (rate > 0) {
        long wait = started + (long) ((i + 1) / rate * 1e9) - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
    }
    long accepted = 0;
    long duplicate = 0;
    long rejected = 0;
    long unanswered = 0;
    for (CompletableFuture<EventResult> answer : answers) {
      try {
        EventStatus s = answer.get().status();
        accepted += s == EventStatus.ACCEPTED ? 1 : 0;
        duplicate += s == EventStatus.DUPLICATE ? 1 : 0;
        rejected += s == EventStatus.REJECTED ? 1 : 0;
      } catch (ExecutionException e) {
        unanswered++;
      }
    }
    progress.finish();
    return new ProductRun.Report(
        answers.size(), accepted, duplicate, rejected, 0, rejected, 0, unanswered);
  }

  /** The first {@code n} events again (same ids): each should be answered duplicate. */
  long resend(FeedbackClient client, int n) throws InterruptedException {
    List<CompletableFuture<EventResult>> answers = new ArrayList<>();
    for (int i = 0; i < Math.min(n, sent.size()); i++) {
      FeedbackEvent e = event(i);
      answers.add(client.send(e));
    }
    long duplicates = 0;
    for (CompletableFuture<EventResult> a : answers) {
      try {
        duplicates += a.get().status() == EventStatus.DUPLICATE ? 1 : 0;
      } catch (ExecutionException e) {
        // counted as not duplicate; the summary shows it
      }
    }
    return duplicates;
  }

  /**
   * How the scorer ranked the held-back pairs.
   *
   * @param ranked pairs the scorer ranked
   * @param chosenFirst the share where it ranked the dataset's chosen reply first, NaN of none
   */
  record Judged(int ranked, double chosenFirst) {

    /** The serving figures with these added (the share rounded to 3 decimals). */
    DemoSummary.Serving into(DemoSummary.Serving served) {
      return served.withHeldBack(
          ranked, ranked > 0 ? Math.round(1000.0 * chosenFirst) / 1000.0 : null);
    }
  }

  /**
   * Asks the scorer to rank each held-back pair (in alternating order): the share where it ranked
   * the dataset's chosen reply first.
   */
  Judged judge(ScorerServer scorer, PrintWriter out) throws InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    int asked = 0;
    int agreed = 0;
    for (int i = 0; i < judged.size(); i++) {
      TrainingPair p = judged.get(i);
      boolean chosenFirst = i % 2 == 0;
      try {
        HttpResponse<String> r =
            DemoRank.rank(
                http,
                scorer.uri(),
                p.prompt(),
                chosenFirst ? List.of(p.chosen(), p.rejected()) : List.of(p.rejected(), p.chosen()),
                null);
        if (r.statusCode() != 200) {
          out.println("scorer: /v1/rank answered " + r.statusCode() + " " + r.body());
          break;
        }
        JsonNode answer = JsonForm.mapper().readTree(r.body());
        asked++;
        agreed += answer.get("best").asInt() == (chosenFirst ? 0 : 1) ? 1 : 0;
      } catch (IOException e) {
        out.println("scorer: /v1/rank failed: " + e.getMessage());
        break;
      }
    }
    double share = asked == 0 ? Double.NaN : (double) agreed / asked;
    out.printf(
        "scorer: ranked the dataset's chosen reply first in %d of %d held-back pairs of %s%n",
        agreed, asked, file.getFileName());
    return new Judged(asked, share);
  }
}
