package dev.edgegen.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/** Seeded Gaussian noise drawn in Java, so a seed gives the same tensor on any machine and engine. */
public final class Randn {
    private Randn() {}

    /** Standard normal tensor of {@code shape} from {@code rng}, in row-major order. */
    public static NDArray randn(NDManager manager, Shape shape, Random rng) {
        int n = Math.toIntExact(shape.size());
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = (float) rng.nextGaussian();
        }
        return manager.create(data, shape);
    }
}
