package dev.edgegen.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line terminal progress bar with rate and ETA, redrawn in place with '\r'
 * ({@code [#####.....] 12/50  2.31 it/s  ETA 0:16  loss 0.123}). When the stream is not a
 * terminal it prints at most one line per 10% so logs stay short.
 */
public final class ProgressBar implements AutoCloseable {
    private final PrintStream out;
    private final String label;
    private final long total;
    private final long start = System.nanoTime();
    private final boolean interactive;
    private long lastPrinted = -1;
    private long done;
    private long startCount;

    public ProgressBar(PrintStream out, String label, long total) {
        this(out, label, total, 0);
    }

    /** {@code already}: steps done before this run (resumed training), excluded from the rate. */
    public ProgressBar(PrintStream out, String label, long total, long already) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
        this.done = already;
        this.startCount = already;
        this.interactive = System.console() != null;
    }

    public void step(long newDone, String suffix) {
        done = newDone;
        boolean last = done >= total;
        long decile = done * 10 / total;
        if (!interactive && !last && decile == lastPrinted) {
            return;
        }
        lastPrinted = decile;
        double secs = (System.nanoTime() - start) / 1e9;
        double rate = (done - startCount) / Math.max(secs, 1e-9);
        double eta = rate > 0 ? (total - done) / rate : Double.NaN;
        int width = 30;
        int filled = (int) (width * Math.min(1.0, done / (double) total));
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String rateText = rate >= 1 ? String.format(Locale.ROOT, "%.2f it/s", rate)
                : String.format(Locale.ROOT, "%.2f s/it", rate > 0 ? 1 / rate : 0);
        String line = String.format(Locale.ROOT, "%s [%s] %d/%d  %s  ETA %s  elapsed %s%s",
                label, bar, done, total, rateText, clock(eta), clock(secs),
                suffix == null || suffix.isEmpty() ? "" : "  " + suffix);
        if (interactive) {
            out.print("\r" + line + (last ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }

    public void step(long newDone) {
        step(newDone, "");
    }

    static String clock(double secs) {
        if (Double.isNaN(secs) || Double.isInfinite(secs)) return "?";
        long s = Math.round(secs);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    @Override
    public void close() {
        if (interactive && done < total) {
            out.println();
        }
    }
}
