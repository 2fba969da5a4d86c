package io.prefstream.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;

/** The broker switch: embedded by default, a clear failure where a named broker cannot run. */
class KafkaFixtureTest {

  private final String before = System.getProperty("prefstream.it.broker");

  @AfterEach
  void restore() {
    if (before == null) {
      System.clearProperty("prefstream.it.broker");
    } else {
      System.setProperty("prefstream.it.broker", before);
    }
  }

  @Test
  void theEmbeddedBrokerIsTheDefault() {
    System.clearProperty("prefstream.it.broker");
    assertThat(KafkaFixture.kind())
        .isEqualTo(System.getenv().getOrDefault("PREFSTREAM_IT_BROKER", "embedded"));
  }

  @Test
  void anUnknownBrokerIsRefusedByName() {
    System.setProperty("prefstream.it.broker", "zookeeper");

    assertThatThrownBy(() -> KafkaFixture.start("x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("embedded or testcontainers")
        .hasMessageContaining("zookeeper");
  }

  @Test
  void testcontainersWithoutADockerEngineFailsAndSaysSo() {
    assumeFalse(DockerClientFactory.instance().isDockerAvailable(), "a Docker engine is here");
    System.setProperty("prefstream.it.broker", "testcontainers");

    assertThatThrownBy(() -> KafkaFixture.start("x"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs a Docker engine");
  }

  @Test
  void aSuiteFixtureUsedBeforeItsSuiteStartsSaysHowToRegisterIt() throws Exception {
    KafkaFixture fixture = KafkaFixture.suite("early");

    assertThatThrownBy(fixture::bootstrapServers)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("early broker is not running")
        .hasMessageContaining("@RegisterExtension");
    fixture.close(); // nothing to stop: no error
  }
}
