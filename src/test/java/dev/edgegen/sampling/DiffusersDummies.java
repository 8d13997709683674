package dev.edgegen.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The deterministic inputs of diffusers' scheduler tests (tests/schedulers/test_schedulers.py,
 * SchedulerCommonTest): {@code dummy_sample_deter}, {@code dummy_noise_deter} and {@code dummy_model},
 * and their golden check {@code |sum(|x|) - s| < tol, |mean(|x|) - m| < tol}.
 */
final class DiffusersDummies {
    static final Shape SHAPE = new Shape(4, 3, 8, 8); // (B, C, H, W)

    private DiffusersDummies() {}

    /** arange(768) reshaped (C, H, W, B), divided by 768, permuted to (B, C, H, W). */
    static NDArray sampleDeter(NDManager manager) {
        return deter(manager, false);
    }

    /** The same with arange flipped: 767 - k. */
    static NDArray noiseDeter(NDManager manager) {
        return deter(manager, true);
    }

    private static NDArray deter(NDManager manager, boolean flipped) {
        int b = 4;
        int c = 3;
        int h = 8;
        int w = 8;
        int n = b * c * h * w;
        float[] data = new float[n];
        int i = 0;
        for (int bi = 0; bi < b; bi++) {
            for (int ci = 0; ci < c; ci++) {
                for (int hi = 0; hi < h; hi++) {
                    for (int wi = 0; wi < w; wi++) {
                        int k = ((ci * h + hi) * w + wi) * b + bi; // position in the (C, H, W, B) arange
                        data[i++] = (float) (flipped ? n - 1 - k : k) / (float) n;
                    }
                }
            }
        }
        return manager.create(data, SHAPE);
    }

    /** dummy_model: sample * t / (t + 1), in float32. */
    static NDArray model(NDArray sample, float t) {
        return sample.mul(t).div(t + 1f);
    }

    static void assertGolden(NDArray x, double sum, double sumTol, double mean, double meanTol) {
        float[] v = x.toFloatArray();
        double s = 0;
        for (float f : v) {
            s += Math.abs(f);
        }
        double m = s / v.length;
        System.out.printf("{\"golden\": \"%s\", \"sum\": %s, \"diffusers_sum\": %s, \"sum_tol\": %s, "
                + "\"mean\": %s, \"diffusers_mean\": %s, \"mean_tol\": %s}%n",
                caller(), s, sum, sumTol, m, mean, meanTol);
        assertEquals(sum, s, sumTol, "sum(|x|)");
        assertEquals(mean, m, meanTol, "mean(|x|)");
    }

    /** For diffusers tests that check only the mean. */
    static void assertGoldenMean(NDArray x, double mean, double meanTol) {
        float[] v = x.toFloatArray();
        double s = 0;
        for (float f : v) {
            s += Math.abs(f);
        }
        double m = s / v.length;
        System.out.printf("{\"golden\": \"%s\", \"mean\": %s, \"diffusers_mean\": %s, \"mean_tol\": %s}%n",
                caller(), m, mean, meanTol);
        assertEquals(mean, m, meanTol, "mean(|x|)");
    }

    private static String caller() {
        StackTraceElement[] st = Thread.currentThread().getStackTrace();
        for (StackTraceElement e : st) {
            if (e.getMethodName().startsWith("test")) {
                return e.getClassName().replace("dev.edgegen.sampling.", "") + "." + e.getMethodName();
            }
        }
        return "?";
    }
}
