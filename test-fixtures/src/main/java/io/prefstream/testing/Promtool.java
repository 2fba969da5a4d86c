package io.prefstream.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus' own linter on a scrape: {@code promtool check metrics} reads the exposition and names
 * each problem (no HELP, a counter without {@code _total}, a non-base unit such as {@code _ms}, a
 * reserved suffix). promtool comes from Debian's {@code prometheus} package, which {@code
 * scripts/install-promtool} installs (as root or with password-less sudo) the first time it is
 * needed; a test that needs it fails, saying why, where it cannot be had, and never skips.
 */
public final class Promtool {

  private static Path promtool;

  private Promtool() {}

  /**
   * The problems promtool finds in {@code exposition} (Prometheus text format), one per line; empty
   * when it passes.
   */
  public static List<String> problems(String exposition) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(executable().toString(), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(exposition.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("promtool check metrics did not finish in 60 s");
    }
    return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  private static synchronized Path executable() throws IOException, InterruptedException {
    if (promtool != null) {
      return promtool;
    }
    String given = System.getenv("PREFSTREAM_PROMTOOL");
    for (String candidate :
        given != null ? List.of(given) : List.of("/usr/bin/promtool", "/usr/local/bin/promtool")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return promtool = Path.of(candidate);
      }
    }
    Path script = script();
    Process install = new ProcessBuilder(script.toString()).redirectErrorStream(true).start();
    String said = new String(install.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (install.waitFor() != 0 || !Files.isExecutable(Path.of("/usr/bin/promtool"))) {
      throw new IllegalStateException(
          "promtool is needed to check /metrics and could not be installed: " + said.strip());
    }
    return promtool = Path.of("/usr/bin/promtool");
  }

  /** scripts/install-promtool of this checkout, from a module's directory or the root. */
  private static Path script() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path script = dir.resolve("scripts/install-promtool");
      if (Files.isExecutable(script)) {
        return script;
      }
    }
    throw new IllegalStateException(
        "promtool is needed to check /metrics: install Debian's prometheus package, or set"
            + " PREFSTREAM_PROMTOOL (scripts/install-promtool was not found above "
            + Path.of("").toAbsolutePath()
            + ")");
  }
}
