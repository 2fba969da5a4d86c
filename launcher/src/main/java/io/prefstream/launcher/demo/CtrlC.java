package io.prefstream.launcher.demo;

import java.io.PrintWriter;
import java.util.function.BooleanSupplier;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C (SIGINT) as a request to finish, not to die: the first one sets a flag that a long run
 * polls (the demo then stops its product, drains, reconciles and prints its summary); the second
 * exits at once with status 130. Without this the JVM would run its shutdown hooks mid-run and the
 * summary would be lost. {@link #close} puts the previous handler back.
 */
final class CtrlC implements BooleanSupplier, AutoCloseable {

  private final PrintWriter out;
  private final String finishing;
  private volatile boolean pressed;
  private SignalHandler previous;

  private CtrlC(PrintWriter out, String finishing) {
    this.out = out;
    this.finishing = finishing;
  }

  /**
   * @param finishing what the first Ctrl-C starts, for the line it prints
   */
  static CtrlC install(PrintWriter out, String finishing) {
    CtrlC c = new CtrlC(out, finishing);
    try {
      c.previous = Signal.handle(new Signal("INT"), c::handle);
    } catch (IllegalArgumentException e) {
      // No SIGINT here (e.g. the JVM was started with -Xrs): Ctrl-C keeps its default.
    }
    return c;
  }

  private void handle(Signal signal) {
    if (pressed) {
      out.println("prefstream: stopped (second Ctrl-C)");
      out.flush();
      System.exit(130);
    }
    pressed = true;
    out.println("prefstream: Ctrl-C: " + finishing + " (Ctrl-C again to quit at once)");
    out.flush();
  }

  /** True once Ctrl-C was pressed. */
  @Override
  public boolean getAsBoolean() {
    return pressed;
  }

  @Override
  public void close() {
    if (previous != null) {
      Signal.handle(new Signal("INT"), previous);
    }
  }
}
