package io.prefstream.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class KafkaConnectionTest {

  private static final Map<String, String> SCRAM =
      Map.of(
          "bootstrap.servers", "k1:9093",
          "security.protocol", "SASL_SSL",
          "sasl.mechanism", "SCRAM-SHA-512",
          "sasl.jaas.config",
              "org.apache.kafka.common.security.scram.ScramLoginModule required"
                  + " username=\"alice\" password=\"p4ss\";",
          "ssl.truststore.password", "trust-pw");

  @Test
  void describesTheAddressPrincipalAndMechanismButNoSecret() {
    assertThat(KafkaConnection.describe(SCRAM))
        .isEqualTo("Kafka at k1:9093 as principal 'alice' (SASL_SSL, SCRAM-SHA-512)")
        .doesNotContain("p4ss", "trust-pw");
    assertThat(KafkaConnection.describe(Map.of("bootstrap.servers", "k1:9092")))
        .isEqualTo("Kafka at k1:9092 (PLAINTEXT)");
    assertThat(
            KafkaConnection.describe(
                Map.of(
                    "bootstrap.servers", "k1:9093",
                    "security.protocol", "SSL",
                    "ssl.keystore.location", "/etc/kafka/svc.p12")))
        .isEqualTo("Kafka at k1:9093 as principal 'certificate in /etc/kafka/svc.p12' (SSL)");
  }

  @Test
  void aLoginModuleWithoutAUserNameStillSaysWhereThePrincipalComesFrom() {
    assertThat(
            KafkaConnection.principal(
                Map.of(
                    "security.protocol", "SASL_PLAINTEXT",
                    "sasl.mechanism", "OAUTHBEARER",
                    "sasl.jaas.config",
                        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
                            + " required;")))
        .isEqualTo("(from sasl.jaas.config)");
    assertThat(KafkaConnection.principal(Map.of("security.protocol", "SSL"))).isNull();
  }

  @Test
  void explainsEachKindOfRefusalInOneLine() {
    assertThat(
            KafkaConnection.explain(
                SCRAM,
                new KafkaException(
                    "wrapped", new SaslAuthenticationException("invalid credentials"))))
        .isEqualTo(
            "Kafka at k1:9093 as principal 'alice' (SASL_SSL, SCRAM-SHA-512) refused the"
                + " credentials: invalid credentials");
    assertThat(
            KafkaConnection.explain(
                SCRAM, new SslAuthenticationException("PKIX path building failed")))
        .startsWith("TLS handshake with Kafka at k1:9093")
        .contains("ssl.truststore.location", "PKIX path building failed");
    assertThat(KafkaConnection.explain(SCRAM, new TopicAuthorizationException("no WRITE")))
        .endsWith("denied access: no WRITE");
    assertThat(
            KafkaConnection.explain(
                SCRAM,
                new KafkaException(
                    "Failed to create new KafkaAdminClient",
                    new IllegalArgumentException("No enum constant SASL_SSLX"))))
        .isEqualTo(
            "Kafka client settings for Kafka at k1:9093 as principal 'alice' (SASL_SSL,"
                + " SCRAM-SHA-512) were rejected: Failed to create new KafkaAdminClient: No enum"
                + " constant SASL_SSLX");
  }

  @Test
  void theBootstrapGivenOverridesOneAmongTheSettings() {
    Map<String, Object> client =
        KafkaConnection.client(
            "real:9092", Map.of("bootstrap.servers", "stale:9092", "security.protocol", "SSL"));
    assertThat(client)
        .containsEntry("bootstrap.servers", "real:9092")
        .containsEntry("security.protocol", "SSL");
  }
}
