package dev.edgegen.nelf;

/** Image quality against ground truth: PSNR (dB, peak 1) and SSIM (Wang et al. 2004; 11x11 Gaussian, σ 1.5, mean over RGB). */
public final class Metrics {
    private Metrics() {}

    public static double mse(RgbImage a, RgbImage b) {
        requireSameSize(a, b);
        double s = 0;
        for (int i = 0; i < a.rgb().length; i++) {
            double d = a.rgb()[i] - b.rgb()[i];
            s += d * d;
        }
        return s / a.rgb().length;
    }

    public static double psnr(RgbImage a, RgbImage b) {
        return -10 * Math.log10(Math.max(mse(a, b), 1e-12));
    }

    public static double ssim(RgbImage a, RgbImage b) {
        requireSameSize(a, b);
        int w = a.width(), h = a.height(), r = 5;
        double[] k = new double[2 * r + 1];
        double ks = 0;
        for (int i = -r; i <= r; i++) ks += k[i + r] = Math.exp(-i * i / (2 * 1.5 * 1.5));
        for (int i = 0; i < k.length; i++) k[i] /= ks;
        double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03, total = 0;
        int count = 0;
        for (int ch = 0; ch < 3; ch++) {
            double[] x = channel(a, ch), y = channel(b, ch);
            double[] xx = new double[x.length], yy = new double[x.length], xy = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                xx[i] = x[i] * x[i];
                yy[i] = y[i] * y[i];
                xy[i] = x[i] * y[i];
            }
            double[] mx = blur(x, w, h, k), my = blur(y, w, h, k), sxx = blur(xx, w, h, k), syy = blur(yy, w, h, k), sxy = blur(xy, w, h, k);
            for (int j = r; j < h - r; j++) {
                for (int i = r; i < w - r; i++) {
                    int p = j * w + i;
                    double vx = sxx[p] - mx[p] * mx[p], vy = syy[p] - my[p] * my[p], cov = sxy[p] - mx[p] * my[p];
                    total += (2 * mx[p] * my[p] + c1) * (2 * cov + c2) / ((mx[p] * mx[p] + my[p] * my[p] + c1) * (vx + vy + c2));
                    count++;
                }
            }
        }
        if (count == 0) throw new IllegalArgumentException("SSIM needs images of at least 11x11, got " + w + "x" + h);
        return total / count;
    }

    private static double[] channel(RgbImage im, int ch) {
        double[] out = new double[im.width() * im.height()];
        for (int i = 0; i < out.length; i++) out[i] = im.rgb()[3 * i + ch];
        return out;
    }

    /** Separable "valid" blur; values within r of the border are left unused by the caller. */
    private static double[] blur(double[] x, int w, int h, double[] k) {
        int r = k.length / 2;
        double[] t = new double[x.length], out = new double[x.length];
        for (int j = 0; j < h; j++) {
            for (int i = r; i < w - r; i++) {
                double s = 0;
                for (int q = -r; q <= r; q++) s += k[q + r] * x[j * w + i + q];
                t[j * w + i] = s;
            }
        }
        for (int j = r; j < h - r; j++) {
            for (int i = 0; i < w; i++) {
                double s = 0;
                for (int q = -r; q <= r; q++) s += k[q + r] * t[(j + q) * w + i];
                out[j * w + i] = s;
            }
        }
        return out;
    }

    private static void requireSameSize(RgbImage a, RgbImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new IllegalArgumentException("images differ in size: " + a.width() + "x" + a.height() + " vs " + b.width() + "x" + b.height());
        }
    }
}
