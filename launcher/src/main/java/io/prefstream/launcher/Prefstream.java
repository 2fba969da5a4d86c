package io.prefstream.launcher;

import io.prefstream.launcher.bench.Bench;
import io.prefstream.launcher.demo.DemoCommand;
import io.prefstream.launcher.demo.SimulateCommand;
import io.prefstream.launcher.ops.CheckpointCommand;
import io.prefstream.launcher.ops.RolloutCommand;
import io.prefstream.launcher.ops.TailCommand;
import io.prefstream.launcher.ops.TopicsCommand;
import io.prefstream.launcher.ops.TrainCommand;
import io.prefstream.launcher.stack.RunCommand;
import io.prefstream.launcher.stack.UpCommand;
import io.prefstream.service.ServiceException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code prefstream} command line. */
@Command(
    name = "prefstream",
    mixinStandardHelpOptions = true,
    versionProvider = Prefstream.Version.class,
    description = "Streaming online preference learning: feedback in, a better reward model out.",
    subcommands = {
      UpCommand.class,
      DemoCommand.class,
      RunCommand.class,
      SimulateCommand.class,
      TrainCommand.class,
      CheckpointCommand.class,
      RolloutCommand.class,
      Bench.class,
      TopicsCommand.class,
      TailCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Prefstream implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit code: 0 ok, 1 failed, 2 bad usage. */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /**
   * The command line, with {@link UserError}s and services that cannot start ({@link
   * ServiceException}) printed as one line and exit code 1.
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Prefstream());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof UserError || e instanceof ServiceException) {
            commandLine.getErr().println("prefstream: " + e.getMessage());
            return 1;
          }
          throw e;
        });
    return cli;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command");
  }

  /** The version from the jar manifest, when run from the built jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Prefstream.class.getPackage().getImplementationVersion();
      return new String[] {"prefstream " + (v == null ? "(development build)" : v)};
    }
  }
}
