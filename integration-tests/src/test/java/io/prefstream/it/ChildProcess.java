package io.prefstream.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The prefstream command line run as a separate JVM, the way a user runs it. */
final class ChildProcess implements AutoCloseable {

  private static final Path JAR =
      Path.of(
          System.getProperty(
              "prefstream.launcher.jar", "../launcher/target/prefstream-launcher.jar"));

  private final Process process;
  private final Thread reader;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());

  private ChildProcess(Process process) {
    this.process = process;
    this.reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  all.add(line);
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "child-output");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code java -jar prefstream-launcher.jar ARGS} as {@code ./prefstream} does, with stderr
   * merged into stdout.
   */
  static ChildProcess start(String... args) throws IOException {
    return start(java.util.Map.of(), args);
  }

  /** As {@link #start(String...)}, with {@code env} added to the child's environment. */
  static ChildProcess start(Map<String, String> env, String... args) throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException("Launcher jar not built: " + JAR.toAbsolutePath());
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--add-modules=jdk.incubator.vector"); // as ./prefstream runs it
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(env);
    return new ChildProcess(builder.start());
  }

  /** Runs a command to completion and returns its exit code and output. */
  static Result run(Duration limit, String... args) throws Exception {
    return run(limit, Map.of(), args);
  }

  /** As {@link #run(Duration, String...)}, with these environment variables added. */
  static Result run(Duration limit, Map<String, String> env, String... args) throws Exception {
    try (ChildProcess child = start(env, args)) {
      if (!child.process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(
            "prefstream "
                + String.join(" ", args)
                + " did not end within "
                + limit
                + "; output: "
                + child.output());
      }
      child.reader.join(10_000); // the reader ends at end of output
      return new Result(child.process.exitValue(), child.output());
    }
  }

  /** Waits for an output line containing {@code text} and returns it. */
  String awaitLine(String text, Duration limit) throws InterruptedException {
    return awaitLine(line -> line.contains(text), "containing '" + text + "'", limit);
  }

  /** Waits for an output line that passes {@code test} (described as {@code what}). */
  String awaitLine(java.util.function.Predicate<String> test, String what, Duration limit)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      String line = lines.poll(100, TimeUnit.MILLISECONDS);
      if (line != null && test.test(line)) {
        return line;
      }
      if (line == null && !process.isAlive() && lines.isEmpty()) {
        break;
      }
    }
    throw new AssertionError("No line " + what + " within " + limit + "; output: " + output());
  }

  /** SIGKILL (kill -9), and waits for the process to be gone. */
  void kill(Duration limit) throws InterruptedException {
    process.toHandle().destroyForcibly();
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("Process did not die within " + limit + " of SIGKILL");
    }
  }

  /** Sends SIGINT, as Ctrl-C in a terminal does. */
  void interrupt() throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start();
    if (kill.waitFor() != 0) {
      throw new AssertionError("kill -INT " + process.pid() + " failed");
    }
  }

  /** Waits for the process to end by itself; returns its exit code. */
  int awaitExit(Duration limit) throws InterruptedException {
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("Process did not end within " + limit + "; output: " + output());
    }
    return process.exitValue();
  }

  /** Sends SIGTERM and waits for the process to end; returns its exit code. */
  int terminate(Duration limit) throws InterruptedException {
    // Through the handle: Process.destroy() would also close our end of its output.
    process.toHandle().destroy();
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(
          "Process did not stop within " + limit + " of SIGTERM; output: " + output());
    }
    return process.exitValue();
  }

  String output() {
    synchronized (all) {
      return String.join("\n", all);
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }

  record Result(int exitCode, String output) {
    List<String> lines() {
      return output.lines().toList();
    }
  }
}
