package io.prefstream.launcher.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.config.KafkaConnection;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.ingest.IngestMain;
import io.prefstream.launcher.Prefstream;
import io.prefstream.local.LocalKafka;
import io.prefstream.monitor.MonitorMain;
import io.prefstream.pairs.LocalPairBuilder;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.ScorerConfig;
import io.prefstream.scorer.ScorerMain;
import io.prefstream.service.ServiceException;
import io.prefstream.simulator.ProductRun;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.testing.TestCertificates;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerMetrics;
import io.prefstream.trainer.TrainerService;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every service and every CLI command that talks to Kafka, against a broker whose only client
 * listener is SASL_SSL (SCRAM-SHA-512, a certificate made here by the JDK's keytool): configured by
 * {@code kafka.*} keys and {@code --kafka-config} alone; wrong credentials fail at start, naming
 * the principal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the stack's test closes the broker
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class SecuredKafkaIT {

  private static final String USER = "prefstream-svc";
  private static final String PASSWORD = "svc-s3cret";

  @TempDir static Path dir;

  private LocalKafka kafka;
  private Path truststore;
  private TestCertificates certs;
  private HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void startSecuredBroker() throws Exception {
    certs = TestCertificates.create(dir.resolve("certs"));
    truststore = certs.truststore();
    kafka =
        LocalKafka.builder()
            .optPort(0)
            .optDataDir(dir.resolve("kafka"))
            .optTopics(Topics.withPrefix("secured"))
            .optSaslSsl(
                new LocalKafka.SaslSsl(
                    certs.keystore(), TestCertificates.PASSWORD, Map.of(USER, PASSWORD)))
            .build()
            .start();
  }

  @AfterAll
  void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  /** The client settings a secured cluster's users are given, as {@code kafka.*} keys. */
  private Map<String, String> client(String user, String password) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("kafka.security.protocol", "SASL_SSL");
    s.put("kafka.sasl.mechanism", "SCRAM-SHA-512");
    s.put(
        "kafka.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + user
            + "\" password=\""
            + password
            + "\";");
    s.put("kafka.ssl.truststore.location", truststore.toString());
    s.put("kafka.ssl.truststore.password", TestCertificates.PASSWORD);
    s.put("kafka.ssl.truststore.type", "PKCS12");
    return s;
  }

  private Path clientFile(String name, Map<String, String> settings) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(
        file,
        settings.entrySet().stream()
            // Properties escapes: the JAAS line has '=' and quotes, which load as they are.
            .map(e -> e.getKey() + "=" + e.getValue().replace("\\", "\\\\"))
            .collect(Collectors.joining("\n", "", "\n")));
    return file;
  }

  private Settings settings(ServiceKind kind, Map<String, String> client, String name) {
    return kind.settings(
        Settings.of(client),
        Settings.empty(),
        kafka.bootstrapServers(),
        kafka.topics(),
        dir.resolve(name),
        0);
  }

  @Test
  void theListenerTakesNoPlaintextClient() {
    assertThatThrownBy(
            () ->
                KafkaConnection.check(
                    Map.of("bootstrap.servers", kafka.bootstrapServers()), Duration.ofSeconds(3)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("(PLAINTEXT)");
  }

  @Test
  void everyServiceRefusedItsCredentialsFailsAtStartNamingThePrincipal() {
    Map<String, String> wrong = client("mallory", "guess");
    Map<ServiceKind, Function<Settings, AutoCloseable>> starts = new LinkedHashMap<>();
    starts.put(
        ServiceKind.INGEST, s -> IngestMain.start(s, new PrintWriter(new StringWriter(), true)));
    starts.put(ServiceKind.PAIR_BUILDER, LocalPairBuilder::start);
    starts.put(
        ServiceKind.TRAINER,
        s ->
            TrainerService.start(
                TrainerConfig.from(s), new TrainerMetrics(new SimpleMeterRegistry())));
    starts.put(
        ServiceKind.SCORER, s -> ScorerMain.serve(ScorerConfig.from(s), ApiKeys.localDefault()));
    starts.put(ServiceKind.MONITOR, MonitorMain::start);

    for (var start : starts.entrySet()) {
      Settings settings = settings(start.getKey(), wrong, "wrong-" + start.getKey());
      assertThatThrownBy(() -> start.getValue().apply(settings).close())
          .as(start.getKey().serviceName())
          .isInstanceOf(ServiceException.class)
          .hasMessageContaining("as principal 'mallory' (SASL_SSL, SCRAM-SHA-512)")
          .hasMessageContaining("refused the credentials")
          .hasMessageNotContaining("guess");
    }

    // And the CLI, from a --kafka-config file.
    StringWriter err = new StringWriter();
    int exit =
        cli(
            new StringWriter(),
            err,
            "topics",
            "--bootstrap",
            kafka.bootstrapServers(),
            "--kafka-config",
            uncheckedFile("wrong.properties", wrong).toString());
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString())
        .contains("as principal 'mallory' (SASL_SSL, SCRAM-SHA-512) refused the credentials")
        .doesNotContain("guess")
        .doesNotContain("Exception");
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void theWholeSystemAndTheCliWorkOverSaslSsl() throws Exception {
    Map<String, String> client = client(USER, PASSWORD);
    // And the APIs over HTTPS: ingest, the scorer and the monitor each with the keystore.
    Map<String, String> services = new LinkedHashMap<>(client);
    for (String service : List.of("ingest", "scorer", "monitor")) {
      services.put(service + ".tls.keystore", certs.keystore().toString());
      services.put(service + ".tls.keystore-password", TestCertificates.PASSWORD);
    }
    http = HttpClient.newBuilder().sslContext(certs.clientContext()).build();
    try (LocalStack stack =
        LocalStack.builder(kafka)
            .optConfig(Settings.of(services))
            .optPort(ServiceKind.INGEST, 0)
            .optPort(ServiceKind.SCORER, 0)
            .optPort(ServiceKind.MONITOR, 0)
            .optDefaults(
                ServiceKind.TRAINER, Settings.of(Map.of("trainer.checkpoint-interval", "1s")))
            .optOut(new PrintWriter(new StringWriter(), true))
            .start()) {
      try {
        Simulator simulator =
            new Simulator(
                SimulatorConfig.builder(Instant.now().minus(Duration.ofMinutes(2)))
                    .optStep(Duration.ofMillis(20))
                    .build());
        ProductRun.Report sent;
        try (FeedbackClient feedback =
            FeedbackClient.builder(stack.ingest().uri(), ApiKeys.DEMO_KEY)
                .optHttpClient(http)
                .build()) {
          sent = ProductRun.run(simulator, feedback, 1500);
        }
        assertThat(stack.ingest().uri().getScheme()).isEqualTo("https");
        assertThat(stack.scorer().uri().getScheme()).isEqualTo("https");
        assertThat(stack.monitor().uri().getScheme()).isEqualTo("https");
        assertThat(sent.unanswered()).isZero();
        assertThat(sent.accepted()).isPositive();

        // Pairs built by Flink, a checkpoint trained, published and served: each over SASL_SSL.
        await(() -> stack.trainer().checkpointsWritten() > 0, "a checkpoint from the trainer");
        await(() -> score(stack.scorer().uri()) == 200, "the scorer serving the trained model");
        await(
            () -> status(stack.monitor().uri().resolve("/healthz")) == 200,
            "the monitor's Streams application running");
        await(
            () ->
                get(stack.monitor().uri().resolve("/v1/dashboard")).contains("\"tenant\":\"demo\""),
            "the monitor showing the tenant's traffic");
      } finally {
        // A failure above says more with the stack's own view.
        assertThat(stack.running())
            .containsExactly("kafka", "ingest", "pair-builder", "trainer", "scorer", "monitor");
      }

      Path config = clientFile("client.properties", client);
      String[] target = {
        "--bootstrap", kafka.bootstrapServers(), "--topic-prefix", "secured",
        "--kafka-config", config.toString(), "--timeout", "20"
      };
      StringWriter out = new StringWriter();
      assertThat(cli(out, new StringWriter(), join("topics", target))).isZero();
      assertThat(out.toString()).contains("secured.feedback", "secured.pairs");

      out = new StringWriter();
      assertThat(
              cli(
                  out,
                  new StringWriter(),
                  join("tail", target, "pairs", "--from-beginning", "--max", "1")))
          .isZero();
      assertThat(out.toString()).contains("\"pair_id\"", "\"tenant_id\":\"demo\"");

      out = new StringWriter();
      assertThat(cli(out, new StringWriter(), join("rollout", "status", target))).isZero();
      assertThat(out.toString()).contains("demo/reward: champion v");

      Path trained;
      try (Stream<Path> versions = Files.list(stack.trainer().store().resolve("demo/reward"))) {
        trained = versions.filter(Files::isDirectory).sorted().findFirst().orElseThrow();
      }
      out = new StringWriter();
      StringWriter err = new StringWriter();
      int published =
          cli(
              out,
              err,
              join(
                  "checkpoint",
                  "publish",
                  target,
                  trained.toString(),
                  "--store",
                  dir.resolve("republished").toString(),
                  "--tenant",
                  "acme"));
      assertThat(published).as(err.toString()).isZero();
      assertThat(out.toString()).contains("published acme/reward/1");

      out = new StringWriter();
      assertThat(
              cli(
                  out,
                  new StringWriter(),
                  join("rollout", "pin", "1", "--tenant", "acme", "--reason", "secured", target)))
          .isZero();
      assertThat(out.toString()).contains("PIN v1");
    }
  }

  private static String[] join(Object... parts) {
    List<String> all = new ArrayList<>();
    for (Object p : parts) {
      if (p instanceof String[] many) {
        all.addAll(List.of(many));
      } else {
        all.add((String) p);
      }
    }
    return all.toArray(String[]::new);
  }

  private static int cli(StringWriter out, StringWriter err, String... args) {
    CommandLine cli = Prefstream.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private Path uncheckedFile(String name, Map<String, String> settings) {
    try {
      return clientFile(name, settings);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private int score(URI scorer) {
    try {
      return http.send(
              HttpRequest.newBuilder(scorer.resolve("/v1/score"))
                  .header("Authorization", "Bearer " + ApiKeys.DEMO_KEY)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"prompt\":\"How do I sort a list?\",\"responses\":[\"Use sorted(xs).\""
                              + ",\"No idea.\"]}"))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private int status(URI uri) {
    try {
      return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private String get(URI uri) {
    try {
      return http.send(
              HttpRequest.newBuilder(uri)
                  .header("Authorization", "Bearer " + ApiKeys.DEMO_KEY)
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static void await(java.util.function.BooleanSupplier done, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited 150 s for " + what);
      }
      Thread.sleep(250);
    }
  }
}
