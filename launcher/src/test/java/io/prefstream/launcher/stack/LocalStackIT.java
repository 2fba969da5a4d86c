package io.prefstream.launcher.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.config.Settings;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Topics;
import io.prefstream.service.ServiceException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local stack through its real parts: a KRaft broker, Flink, libtorch, the HTTP servers. */
class LocalStackIT {

  @TempDir Path dir;

  private final HttpClient http = HttpClient.newHttpClient();

  private LocalKafka kafka(int port) {
    return LocalKafka.builder()
        .optPort(port)
        .optDataDir(dir.resolve("kafka"))
        .optTopics(Topics.withPrefix("stack-" + UUID.randomUUID().toString().substring(0, 8)))
        .build()
        .start();
  }

  private int status(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  /** An address of this machine other than loopback, or null when it has none. */
  private static java.net.InetAddress nonLoopbackAddress() throws IOException {
    for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (var address : java.util.Collections.list(nic.getInetAddresses())) {
        if (address instanceof java.net.Inet4Address) {
          return address;
        }
      }
    }
    return null;
  }

  private static boolean listening(java.net.InetAddress address, int port) {
    try (Socket s = new Socket()) {
      s.connect(new java.net.InetSocketAddress(address, port), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket("localhost", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void startsEveryServiceInOrderServingAndClosesThemAll() throws Exception {
    int kafkaPort = freePort();
    StringWriter said = new StringWriter();
    LocalStack stack =
        LocalStack.builder(kafka(kafkaPort))
            .optPort(ServiceKind.INGEST, 0)
            .optPort(ServiceKind.SCORER, 0)
            .optPort(ServiceKind.MONITOR, 0)
            .optDefaults(
                ServiceKind.TRAINER, Settings.of(Map.of("trainer.checkpoint-interval", "1s")))
            .optOut(new PrintWriter(said, true))
            .start();
    int ingestPort;
    int scorerPort;
    int monitorPort;
    try {
      assertThat(stack.running())
          .containsExactly("kafka", "ingest", "pair-builder", "trainer", "scorer", "monitor");
      ingestPort = stack.ingest().uri().getPort();
      scorerPort = stack.scorer().uri().getPort();
      monitorPort = stack.monitor().uri().getPort();
      assertThat(status(stack.ingest().uri().resolve("/healthz"))).isEqualTo(200);
      assertThat(status(stack.scorer().uri().resolve("/healthz"))).isEqualTo(200);
      // The monitor is healthy once its Streams application runs (its rebalance takes a while).
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(90);
      while (status(stack.monitor().uri().resolve("/healthz")) != 200
          && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertThat(status(stack.monitor().uri().resolve("/healthz"))).isEqualTo(200);
      assertThat(stack.trainer().running()).isTrue();
      assertThat(stack.trainer().config().checkpointInterval()).hasSeconds(1);
      assertThat(stack.trainer().store()).isEqualTo(dir.resolve("kafka/checkpoints"));
      assertThat(stack.pairBuilder().jobId()).isNotBlank();
      assertThat(said.toString()).contains("API key 'demo-key'");

      // A local stack serves this machine only: every listener on the loopback interface.
      java.net.InetAddress outward = nonLoopbackAddress();
      URI flink = stack.pairBuilder().restUri().orElseThrow();
      assertThat(flink.getHost()).isEqualTo("127.0.0.1");
      assertThat(status(flink.resolve("/jobs"))).isEqualTo(200);
      if (outward != null) {
        for (int port :
            new int[] {
              stack.ingest().port(),
              stack.ingest().metricsUri().getPort(),
              stack.scorer().port(),
              stack.monitor().port(),
              flink.getPort()
            }) {
          assertThat(listening(outward, port)).as("%s:%d", outward, port).isFalse();
        }
      }

      // The pair builder stopped from outside (its REST API cancels a job): every service's
      // health says so, and so does the stack.
      var cancelled =
          http.send(
              HttpRequest.newBuilder(
                      flink.resolve("/jobs/" + stack.pairBuilder().jobId() + "?mode=cancel"))
                  .method("PATCH", HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      assertThat(cancelled.statusCode()).isEqualTo(202);
      deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      while (stack.problem() == null && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(stack.problem()).contains("pair builder job", "ended");
      for (URI service :
          List.of(stack.ingest().uri(), stack.scorer().uri(), stack.monitor().uri())) {
        var health =
            http.send(
                HttpRequest.newBuilder(service.resolve("/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as(service.toString()).isEqualTo(503);
        assertThat(health.body()).contains("\"pair_builder\":\"pair builder job");
      }
    } finally {
      stack.close();
    }

    assertThat(stack.running()).isEmpty();
    assertThat(stack.trainer().running()).isFalse();
    for (int port : new int[] {kafkaPort, ingestPort, scorerPort, monitorPort}) {
      assertThat(listening(port)).as("port %d after close", port).isFalse();
    }
  }

  @Test
  void aServiceThatCannotStartClosesThoseStartedBeforeIt() throws Exception {
    int kafkaPort = freePort();
    int ingestPort = freePort();
    try (ServerSocket taken = new ServerSocket(0)) {
      int monitorPort = taken.getLocalPort();
      LocalStack.Builder plan =
          LocalStack.builder(kafka(kafkaPort))
              .optServices(ServiceKind.INGEST, ServiceKind.MONITOR)
              .optPort(ServiceKind.INGEST, ingestPort)
              .optPort(ServiceKind.MONITOR, monitorPort)
              .optOut(new PrintWriter(new StringWriter()));

      assertThatThrownBy(plan::start)
          .isInstanceOf(ServiceException.class)
          .hasMessageContaining("the drift monitor could not start on port " + monitorPort);
    }
    assertThat(listening(ingestPort)).as("ingest").isFalse();
    assertThat(listening(kafkaPort)).as("kafka").isFalse();
  }

  @Test
  void aBadSettingNamesItsKeyAndClosesTheBroker() throws Exception {
    int kafkaPort = freePort();
    LocalStack.Builder plan =
        LocalStack.builder(kafka(kafkaPort))
            .optServices(ServiceKind.TRAINER)
            .optConfig(Settings.of(Map.of("trainer.batch-size", "many")));

    assertThatThrownBy(plan::start)
        .isInstanceOf(ServiceException.class)
        .hasMessageContaining("trainer.batch-size");
    assertThat(listening(kafkaPort)).as("kafka").isFalse();
  }
}
