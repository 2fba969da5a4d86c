package io.prefstream.launcher.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.launcher.UserError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.simulator.ProductRun;
import io.prefstream.simulator.Simulator;
import java.io.PrintWriter;
import java.net.URI;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the simulated product alone against any ingest. */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description =
        "Send simulated-product feedback to an ingest API; ends with a JSON line of counts.")
public final class SimulateCommand implements Runnable {

  @Option(
      names = "--ingest",
      paramLabel = "URL",
      defaultValue = "${env:PREFSTREAM_INGEST_URL:-http://localhost:8080}",
      description = "Base URL of the ingest API. Default: ${DEFAULT-VALUE}.")
  URI ingest;

  @Option(
      names = "--api-key",
      defaultValue = "${env:PREFSTREAM_API_KEY:-demo-key}",
      description = "API key of the tenant (env PREFSTREAM_API_KEY). Default: the local demo key.")
  String apiKey;

  @Mixin SimulationOptions simulation;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Simulator simulator = new Simulator(simulation.config());
    long started = System.nanoTime();
    ProductRun.Report report;
    try (FeedbackClient client = FeedbackClient.builder(ingest, apiKey).optMaxRetries(10).build()) {
      report = ProductRun.run(simulator, client, simulation.events);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted", e);
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    ObjectNode summary = summary(report, seconds);
    out.printf(
        "simulate: sent %d events to %s in %.1f s: %d accepted, %d duplicate, %d rejected (%d"
            + " deliberately malformed), %d unanswered%n",
        report.sent(),
        ingest,
        seconds,
        report.accepted(),
        report.duplicate(),
        report.rejected(),
        report.malformedSent(),
        report.unanswered());
    out.println(summary);
    out.flush();
    if (report.unanswered() > 0) {
      throw new UserError(
          report.unanswered() + " events got no answer from " + ingest + "; see above");
    }
  }

  static ObjectNode summary(ProductRun.Report report, double seconds) {
    ObjectNode summary = JsonForm.mapper().createObjectNode();
    summary.put("sent", report.sent());
    summary.put("accepted", report.accepted());
    summary.put("duplicate", report.duplicate());
    summary.put("rejected", report.rejected());
    summary.put("malformed_sent", report.malformedSent());
    summary.put("valid_rejected", report.validRejected());
    summary.put("malformed_accepted", report.malformedAccepted());
    summary.put("unanswered", report.unanswered());
    summary.put("seconds", Math.round(seconds * 100) / 100.0);
    summary.put("events_per_s", Math.round(report.sent() / Math.max(seconds, 1e-3)));
    return summary;
  }
}
