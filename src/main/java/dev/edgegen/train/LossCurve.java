package dev.edgegen.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws a loss-vs-step curve (raw points and a moving average) as a PNG with labelled axes; the
 * loss axis is logarithmic when the positive losses span more than a factor of 10.
 */
public final class LossCurve {
    private LossCurve() {}

    /** {@code steps} and {@code losses} are parallel lists; non-finite losses are skipped. */
    public static void write(Path png, String title, List<Long> steps, List<Double> rawLosses) throws IOException {
        double lo = Double.MAX_VALUE, hi = 0;
        boolean positive = true;
        for (double v : rawLosses) {
            if (!Double.isFinite(v)) continue;
            positive &= v > 0;
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        boolean log = positive && lo > 0 && hi / lo > 10;
        List<Double> losses = log ? rawLosses.stream().map(Math::log10).toList() : rawLosses;
        int w = 800, h = 500, left = 80, right = 20, top = 40, bottom = 60;
        dev.edgegen.io.Canvas canvas = dev.edgegen.io.Canvas.white(w, h);
        BufferedImage img = canvas.image();
        Graphics2D g = canvas.graphics();
        g.drawString(title, left, 16);

        double xMin = Double.MAX_VALUE, xMax = -Double.MAX_VALUE, yMin = Double.MAX_VALUE, yMax = -Double.MAX_VALUE;
        for (int i = 0; i < steps.size(); i++) {
            double y = losses.get(i);
            if (!Double.isFinite(y)) continue;
            xMin = Math.min(xMin, steps.get(i));
            xMax = Math.max(xMax, steps.get(i));
            yMin = Math.min(yMin, y);
            yMax = Math.max(yMax, y);
        }
        if (xMin > xMax) {
            xMin = 0; xMax = 1; yMin = 0; yMax = 1;
        }
        if (xMax == xMin) xMax = xMin + 1;
        if (yMax == yMin) { yMax += 0.5; yMin -= 0.5; }
        int pw = w - left - right, ph = h - top - bottom;
        g.drawRect(left, top, pw, ph);
        for (int i = 0; i <= 5; i++) {
            double yv = yMin + (yMax - yMin) * i / 5;
            int py = top + ph - (int) Math.round(ph * i / 5.0);
            g.drawLine(left - 5, py, left, py);
            g.drawString(String.format(Locale.ROOT, "%.4g", log ? Math.pow(10, yv) : yv), 5, py + 4);
            double xv = xMin + (xMax - xMin) * i / 5;
            int px = left + (int) Math.round(pw * i / 5.0);
            g.drawLine(px, top + ph, px, top + ph + 5);
            g.drawString(String.format(Locale.ROOT, "%d", Math.round(xv)), px - 10, top + ph + 20);
        }
        g.drawString("step", left + pw / 2 - 10, h - 15);
        g.drawString(log ? "loss (log scale)" : "loss", 5, top - 6);

        g.setColor(new Color(150, 180, 230));
        plot(g, steps, losses, 1, left, top, pw, ph, xMin, xMax, yMin, yMax);
        int window = Math.max(1, steps.size() / 50);
        if (window > 1) {
            g.setColor(new Color(200, 40, 40));
            g.setStroke(new BasicStroke(2f));
            plot(g, steps, losses, window, left, top, pw, ph, xMin, xMax, yMin, yMax);
        }
        g.dispose();
        Path dir = png.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(png.getFileName() + ".tmp");
        if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
        Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Polyline of the trailing moving average over {@code window} finite points. */
    private static void plot(Graphics2D g, List<Long> steps, List<Double> losses, int window, int left, int top,
                             int pw, int ph, double xMin, double xMax, double yMin, double yMax) {
        double[] prefix = new double[losses.size() + 1];
        long[] xs = new long[losses.size()];
        int n = 0;
        for (int i = 0; i < losses.size(); i++) {
            if (!Double.isFinite(losses.get(i))) continue;
            xs[n] = steps.get(i);
            prefix[n + 1] = prefix[n] + losses.get(i);
            n++;
        }
        int prevX = -1, prevY = -1;
        for (int i = 0; i < n; i++) {
            int from = Math.max(0, i + 1 - window);
            double avg = (prefix[i + 1] - prefix[from]) / (i + 1 - from);
            int px = left + (int) Math.round(pw * (xs[i] - xMin) / (xMax - xMin));
            int py = top + ph - (int) Math.round(ph * (avg - yMin) / (yMax - yMin));
            if (prevX >= 0) g.drawLine(prevX, prevY, px, py);
            prevX = px;
            prevY = py;
        }
    }
}
