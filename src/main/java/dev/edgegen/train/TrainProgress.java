package dev.edgegen.train;

import dev.edgegen.cli.ProgressBar;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Function;

/** Shows a run on a {@link ProgressBar}: "train unet [####....] 1200/20000  3.1 it/s  ETA …  loss 0.0831 lr 9.8e-05". */
public final class TrainProgress implements Trainer.Listener, AutoCloseable {
    private final PrintStream out;
    private final String label;
    private final Function<Trainer.StepInfo, String> status;
    private ProgressBar bar;

    public TrainProgress(PrintStream out, String label) {
        this(out, label, info -> "");
    }

    /** {@code status}: more text after loss and lr (e.g. a stage's own statistics). */
    public TrainProgress(PrintStream out, String label, Function<Trainer.StepInfo, String> status) {
        this.out = out;
        this.label = label;
        this.status = status;
    }

    @Override
    public void onStart(long startStep, long totalSteps) {
        bar = new ProgressBar(out, label, totalSteps, startStep);
    }

    @Override
    public void onStep(Trainer.StepInfo info) {
        String more = status.apply(info);
        bar.step(info.step(), String.format(Locale.ROOT, "loss %.4f  lr %.2e", info.loss(), info.lr())
                + (more.isEmpty() ? "" : "  " + more));
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
