package dev.edgegen.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/** A batch: {@code pixels} (B, 3, H, W) row-major in [-1, 1], captions and (for synthetic data) scenes. */
public record Batch(float[] pixels, int size, int height, int width, List<String> captions, List<Scene> scenes) {
    /** The images as a (B, 3, H, W) float32 array in {@code manager}. */
    public NDArray images(NDManager manager) {
        return manager.create(pixels, new Shape(size, 3, height, width));
    }

    /** Samples {@code from} (inclusive) to {@code to} (exclusive) as a batch of their own. */
    public Batch slice(int from, int to) {
        if (from < 0 || to > size || from > to) throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of a batch of " + size);
        int per = 3 * height * width;
        float[] part = java.util.Arrays.copyOfRange(pixels, from * per, to * per);
        return new Batch(part, to - from, height, width, captions.subList(from, to), scenes == null ? null : scenes.subList(from, to));
    }
}
