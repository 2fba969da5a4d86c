package io.prefstream.service;

import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/** How a service runs as its own process: ready line, then until SIGTERM or Ctrl-C. */
public final class Services {

  private Services() {}

  /**
   * A service module's {@code main}: starts it, runs it until the process is told to stop, and
   * exits 1 with one line on standard error when it cannot start.
   */
  public static void main(String name, Supplier<? extends Service> start) {
    PrintWriter out = new PrintWriter(System.out, true);
    Service service;
    try {
      service = start.get();
    } catch (ServiceException | IllegalArgumentException e) {
      System.err.println("prefstream: " + name + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    runUntilStopped(name, service, out);
  }

  /**
   * Prints {@code prefstream: ready NAME <its ready words>} and blocks until the JVM shuts down
   * (SIGTERM, Ctrl-C), which closes the service first ({@code prefstream: stopping NAME}).
   */
  public static void runUntilStopped(String name, Service service, PrintWriter out) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println("prefstream: stopping " + name);
                  out.flush();
                  try {
                    service.close();
                  } catch (RuntimeException e) {
                    System.err.println("prefstream: stopping " + name + ": " + e.getMessage());
                  }
                  stopped.countDown();
                },
                "prefstream-shutdown"));
    out.println("prefstream: ready " + name + " " + service.ready());
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Ends the process at once with {@code reason} on standard error: for a service whose work ended
   * while nobody asked it to (a failed job, a trainer that stopped), so that it does not look alive
   * and its supervisor restarts it from its last checkpoint.
   */
  public static void halt(String reason) {
    System.err.println("prefstream: " + reason);
    System.err.flush();
    Runtime.getRuntime().halt(1);
  }
}
