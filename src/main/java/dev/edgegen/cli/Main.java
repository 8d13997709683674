package dev.edgegen.cli;

import dev.edgegen.io.WeightsException;
import dev.edgegen.tensor.Denormals;
import dev.edgegen.tensor.PageWarmer;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `edgegen` command line. Errors a user can act on print one line and exit non-zero. */
@Command(name = "edgegen", mixinStandardHelpOptions = true, version = "edgegen 0.1.0",
        description = "Fast on-device generative vision: text-to-image diffusion and neural light fields.",
        subcommands = {GenerateCommand.class, InitCommand.class, InspectCommand.class, TokenizeCommand.class,
                BenchCommand.class, TrainCommand.class, ExportCommand.class, EvalCommand.class, NelfCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /** Exit code for bad input (arguments, files, weights). */
    public static final int EXIT_BAD_INPUT = 2;

    public static void main(String[] args) {
        // flush-to-zero before the first op, so libtorch's OpenMP threads, created from this thread, start with it too
        Denormals.flushToZero();
        PageWarmer.start(); // its thread waits until libtorch is loaded
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        boolean debug = Boolean.getBoolean("edgegen.debug") || System.getenv("EDGEGEN_DEBUG") != null;
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (debug) e.printStackTrace();
            cmd.getErr().println("edgegen: " + userMessage(e));
            return isBadInput(e) ? EXIT_BAD_INPUT : 1;
        });
        return cli.execute(args);
    }

    static boolean isBadInput(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof WeightsException
                || e instanceof UncheckedIOException || e instanceof java.nio.file.NoSuchFileException;
    }

    static String userMessage(Throwable e) {
        String m = e.getMessage();
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            m = m + ": " + u.getCause().getMessage();
        }
        if (m == null || m.isBlank()) m = e.getClass().getSimpleName();
        if (!isBadInput(e) && !(e instanceof IllegalStateException)) {
            m = m + " (internal error " + e.getClass().getSimpleName() + "; rerun with EDGEGEN_DEBUG=1 for details)";
        }
        return m;
    }
}
