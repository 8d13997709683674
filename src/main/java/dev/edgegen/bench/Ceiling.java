package dev.edgegen.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** The practical compute ceiling of this machine: GFLOP/s of a large fp32 matmul, measured now. */
public final class Ceiling {
    private Ceiling() {}

    /** Median GFLOP/s of {@code n}³ matmuls over {@code iterations} runs (after one warm-up). */
    public static double matmulGflops(NDManager parent, int n, int iterations) {
        try (NDManager m = parent.newSubManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            a.matMul(b).close();
            double[] secs = new double[iterations];
            for (int i = 0; i < iterations; i++) {
                long t = System.nanoTime();
                NDArray c = a.matMul(b);
                c.getFloat(0, 0); // force completion
                secs[i] = (System.nanoTime() - t) / 1e9;
                c.close();
            }
            return 2.0 * n * n * (double) n / Stats.median(secs) / 1e9;
        }
    }
}
