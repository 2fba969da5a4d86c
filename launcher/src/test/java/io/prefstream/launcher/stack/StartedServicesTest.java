package io.prefstream.launcher.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.service.ServiceException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StartedServicesTest {

  private final List<String> closed = new ArrayList<>();

  private AutoCloseable service(String name) {
    return () -> closed.add(name);
  }

  private AutoCloseable failing(String name) {
    return () -> {
      closed.add(name);
      throw new IllegalStateException(name + " would not stop");
    };
  }

  @Test
  void closesNewestFirstAndOnlyOnce() {
    StartedServices started = new StartedServices();
    started.add("kafka", service("kafka"));
    started.add("ingest", service("ingest"));
    started.add("trainer", service("trainer"));

    assertThat(started.names()).containsExactly("kafka", "ingest", "trainer");
    started.close();
    started.close();

    assertThat(closed).containsExactly("trainer", "ingest", "kafka");
    assertThat(started.names()).isEmpty();
  }

  @Test
  void aFailureToCloseDoesNotKeepTheOthersOpenAndTheFirstIsThrown() {
    StartedServices started = new StartedServices();
    started.add("kafka", service("kafka"));
    started.add("ingest", failing("ingest"));
    started.add("trainer", failing("trainer"));

    assertThatThrownBy(started::close)
        .isInstanceOf(ServiceException.class)
        .hasMessage("closing trainer: trainer would not stop")
        .satisfies(
            e ->
                assertThat(e.getSuppressed())
                    .singleElement()
                    .extracting(Throwable::getMessage)
                    .isEqualTo("ingest would not stop"));
    assertThat(closed).containsExactly("trainer", "ingest", "kafka");
  }

  @Test
  void nothingJoinsAClosedStack() {
    StartedServices started = new StartedServices();
    started.close();

    assertThatThrownBy(() -> started.add("scorer", service("scorer")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("scorer cannot join");
  }
}
