package io.prefstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.http.ApiKeys;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.testing.KafkaFixture;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** A real broker with unique topics, ingest servers on free ports, and an HTTP client for them. */
final class IngestFixture implements AutoCloseable {

  static final String KEY = "test-key";
  static final String TENANT = "acme";

  final LocalKafka kafka;
  final HttpClient http = HttpClient.newHttpClient();
  private final List<IngestServer> servers = new ArrayList<>();

  private IngestFixture(LocalKafka kafka) {
    this.kafka = kafka;
  }

  static IngestFixture start() {
    return start(0, null);
  }

  static IngestFixture start(int port, java.nio.file.Path dataDir) {
    Topics topics = Topics.withPrefix("it-" + UUID.randomUUID().toString().substring(0, 8));
    LocalKafka.Builder builder = LocalKafka.builder().optPort(port).optTopics(topics);
    if (dataDir != null) {
      builder.optDataDir(dataDir);
    }
    return new IngestFixture(builder.build().start());
  }

  /** A fixture over an already running broker (e.g. one restarted by a test); closes it too. */
  static IngestFixture reading(LocalKafka kafka) {
    return new IngestFixture(kafka);
  }

  Topics topics() {
    return kafka.topics();
  }

  ApiKeys keys() {
    return ApiKeys.parse(TENANT + "=" + KEY + ",other=other-key", "test");
  }

  IngestServer server(IngestConfig config) throws InterruptedException {
    return serverWithKeys(config, null);
  }

  /** A server taking {@code keySpec} ({@code tenant=key,...}), or {@link #keys()} when null. */
  IngestServer serverWithKeys(IngestConfig config, String keySpec) throws InterruptedException {
    IngestServer server =
        new IngestServer(
                config.withPort(0),
                keySpec == null ? keys() : ApiKeys.parse(keySpec, "test"),
                topics(),
                Map.of("bootstrap.servers", kafka.bootstrapServers()),
                Clock.systemUTC())
            .start();
    if (!server.awaitReady(Duration.ofSeconds(30))) {
      throw new IllegalStateException("ingest did not read its window in 30 s");
    }
    servers.add(server);
    return server;
  }

  IngestServer server() throws InterruptedException {
    return server(IngestConfig.defaults());
  }

  HttpResponse<String> post(IngestServer server, String contentType, String body, String key)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(server.uri().resolve("/v1/events"))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    if (key != null) {
      request.header("Authorization", "Bearer " + key);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** As {@link #post}, with a body of raw bytes (e.g. ill-formed UTF-8). */
  HttpResponse<String> post(IngestServer server, String contentType, byte[] body, String key)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(server.uri().resolve("/v1/events"))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .header("Content-Type", contentType)
            .header("Authorization", "Bearer " + key)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> postJson(IngestServer server, String body)
      throws IOException, InterruptedException {
    return post(server, "application/json", body, KEY);
  }

  HttpResponse<String> get(IngestServer server, String path)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(server.uri().resolve(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(java.net.URI uri) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return JsonForm.mapper().readTree(response.body());
  }

  /** Every record now on a topic, read by an independent consumer to its end. */
  <V extends SpecificRecord> List<ConsumerRecord<String, V>> readAll(Topic<V> topic) {
    return KafkaFixture.readToEnd(kafka.bootstrapServers(), topic);
  }

  List<FeedbackEvent> feedback() {
    return readAll(topics().feedback()).stream().map(ConsumerRecord::value).toList();
  }

  List<DeadLetter> deadLetters() {
    return readAll(topics().feedbackDlq()).stream().map(ConsumerRecord::value).toList();
  }

  @Override
  public void close() {
    servers.forEach(IngestServer::close);
    kafka.close();
  }
}
