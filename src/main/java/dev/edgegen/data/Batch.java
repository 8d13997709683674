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
}
