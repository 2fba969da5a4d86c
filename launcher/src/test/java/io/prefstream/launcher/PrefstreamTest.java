package io.prefstream.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class PrefstreamTest {

  @Test
  void exitsTwoWithUsageOnBadArguments() {
    StringWriter err = new StringWriter();

    assertThat(run(err, "tail")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required parameter: 'TOPIC'");
    assertThat(run(new StringWriter(), "up", "--kafka-port", "many")).isEqualTo(2);
    assertThat(run(new StringWriter())).isEqualTo(2);
  }

  @Test
  void exitsOneWithOneLineForValuesItCannotUse() {
    StringWriter err = new StringWriter();

    assertThat(run(err, "topics", "--topic-prefix", "bad prefix!")).isEqualTo(1);
    assertThat(err.toString().strip())
        .startsWith("prefstream: Topic prefix must be")
        .endsWith("(--topic-prefix)")
        .doesNotContain("Exception");

    StringWriter timeout = new StringWriter();
    assertThat(run(timeout, "topics", "--timeout", "0")).isEqualTo(1);
    assertThat(timeout.toString()).contains("--timeout must be at least 1 second, got 0");
  }

  private static int run(StringWriter err, String... args) {
    CommandLine cli = Prefstream.commandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    return cli.execute(args);
  }
}
