package dev.edgegen.bench;

import java.util.Arrays;

/** Small statistics helpers for benchmarks. */
public final class Stats {
    private Stats() {}

    public static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Median wall-clock milliseconds of {@code iterations} runs of {@code body}, after {@code warmup} runs. */
    public static double medianMs(int warmup, int iterations, Runnable body) {
        for (int i = 0; i < warmup; i++) body.run();
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        return median(ms);
    }
}
