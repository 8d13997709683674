package dev.edgegen.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The FID-vs-CLIP-score curve SnapFusion plots over guidance scales: one labelled polyline per prompt set,
 * a point per scale, FID on x (lower is better) and CLIP score on y (higher is better); dashed vertical
 * lines mark each set's FID floor.
 */
public final class TradeoffPlot {
    private TradeoffPlot() {}

    /** One point: a guidance scale and its scores. */
    public record Point(float scale, double fid, double clip) {}

    private static final Color[] COLOURS = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
        new Color(148, 103, 189)};

    public static void write(Path png, String title, Map<String, List<Point>> curves, Map<String, Double> floors) throws IOException {
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (List<Point> ps : curves.values()) {
            for (Point p : ps) {
                if (!Double.isFinite(p.fid()) || !Double.isFinite(p.clip())) continue;
                x0 = Math.min(x0, p.fid());
                x1 = Math.max(x1, p.fid());
                y0 = Math.min(y0, p.clip());
                y1 = Math.max(y1, p.clip());
            }
        }
        for (double f : floors.values()) {
            if (Double.isFinite(f)) { x0 = Math.min(x0, f); x1 = Math.max(x1, f); }
        }
        if (x0 > x1) throw new IllegalArgumentException("nothing to plot: no finite (FID, CLIP score) point");
        double padX = Math.max((x1 - x0) * 0.08, 1e-3), padY = Math.max((y1 - y0) * 0.12, 1e-3);
        x0 = Math.max(0, x0 - padX);
        x1 += padX;
        y0 -= padY;
        y1 += padY;
        int w = 800, h = 560, left = 80, right = 30, top = 50, bottom = 60;
        dev.edgegen.io.Canvas canvas = dev.edgegen.io.Canvas.white(w, h);
        BufferedImage img = canvas.image();
        Graphics2D g = canvas.graphics();
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawRect(left, top, w - left - right, h - top - bottom);
        int pw = w - left - right, ph = h - top - bottom;
        for (int i = 0; i <= 5; i++) {
            double xv = x0 + (x1 - x0) * i / 5, yv = y0 + (y1 - y0) * i / 5;
            int px = left + pw * i / 5, py = top + ph - ph * i / 5;
            g.setColor(new Color(230, 230, 230));
            g.drawLine(px, top, px, top + ph);
            g.drawLine(left, py, left + pw, py);
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%.3g", xv), px - 14, top + ph + 18);
            g.drawString(String.format(Locale.ROOT, "%.3f", yv), left - 48, py + 4);
        }
        g.drawString("FID (contrastive-model features; lower is better)", left + pw / 2 - 140, h - 18);
        g.rotate(-Math.PI / 2);
        g.drawString("CLIP score (higher is better)", -(top + ph / 2 + 80), 22);
        g.rotate(Math.PI / 2);
        int c = 0;
        for (var e : curves.entrySet()) {
            Color col = COLOURS[c % COLOURS.length];
            g.setColor(col);
            Double floor = floors.get(e.getKey());
            if (floor != null && Double.isFinite(floor)) {
                int fx = left + (int) Math.round((floor - x0) / (x1 - x0) * pw);
                g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 5f}, 0f));
                g.drawLine(fx, top, fx, top + ph);
            }
            g.setStroke(new BasicStroke(2f));
            int[] prev = null;
            for (Point p : e.getValue()) {
                if (!Double.isFinite(p.fid()) || !Double.isFinite(p.clip())) continue;
                int px = left + (int) Math.round((p.fid() - x0) / (x1 - x0) * pw);
                int py = top + ph - (int) Math.round((p.clip() - y0) / (y1 - y0) * ph);
                if (prev != null) g.drawLine(prev[0], prev[1], px, py);
                g.fillOval(px - 4, py - 4, 8, 8);
                g.drawString(String.format(Locale.ROOT, "%.3g", p.scale()), px + 6, py - 6);
                prev = new int[] {px, py};
            }
            g.fillRect(left + 12, top + 12 + 18 * c, 14, 10);
            g.setColor(Color.BLACK);
            g.drawString(e.getKey() + (floor != null && Double.isFinite(floor) ? " (dashed: FID floor)" : ""), left + 32, top + 22 + 18 * c);
            c++;
        }
        g.dispose();
        dev.edgegen.io.Png.write(png, img, Map.of("Description", title));
    }
}
