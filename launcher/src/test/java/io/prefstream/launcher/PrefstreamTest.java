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

  @Test
  void everyCommandsHelpRendersWithoutAPicocliWarning() {
    java.io.PrintStream stderr = System.err;
    java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(warnings, true, java.nio.charset.StandardCharsets.UTF_8));
    java.util.List<String> rendered = new java.util.ArrayList<>();
    try {
      java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>();
      todo.add(Prefstream.commandLine());
      while (!todo.isEmpty()) {
        CommandLine c = todo.poll();
        rendered.add(c.getCommandSpec().qualifiedName());
        c.getUsageMessage(CommandLine.Help.Ansi.OFF);
        todo.addAll(c.getSubcommands().values());
      }
    } finally {
      System.setErr(stderr);
    }

    assertThat(rendered).contains("prefstream demo", "prefstream bench freshness");
    // An unescaped '%' in a description made picocli warn and print '%n' raw (help demo did).
    assertThat(warnings.toString(java.nio.charset.StandardCharsets.UTF_8))
        .doesNotContain("picocli WARN");
  }

  @Test
  void rolloutCommandsKeepToTimeoutAndSayWhereNothingAnswered() {
    // Nothing listens on port 1: each command gives up after its --timeout, in one line.
    for (String[] args :
        new String[][] {
          {"rollout", "status", "-b", "localhost:1", "--timeout", "1"},
          {"rollout", "promote", "-b", "localhost:1", "--timeout", "1", "--reason", "test"},
        }) {
      StringWriter err = new StringWriter();

      assertThat(run(err, args)).as(String.join(" ", args)).isEqualTo(1);
      assertThat(err.toString().strip())
          .as(String.join(" ", args))
          .startsWith("prefstream: ")
          .contains("no answer from Kafka at localhost:1 within 1 s")
          .doesNotContain("TimeoutException");
    }
  }

  private static int run(StringWriter err, String... args) {
    CommandLine cli = Prefstream.commandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    return cli.execute(args);
  }
}
