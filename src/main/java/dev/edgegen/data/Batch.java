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

    /**
     * Which cells of an {@code h} x {@code w} grid over each image (a latent's cells) cover part of an object:
     * (B, h, w) row-major, 1 where some pixel of the cell differs from the background by more than 0.2 in a channel
     * (synthetic scenes: flat background, read at pixel (0, 0), where objects never reach), 0 elsewhere and for
     * images without a scene.
     */
    public float[] foregroundMask(int h, int w) {
        if (height % h != 0 || width % w != 0) {
            throw new IllegalArgumentException(height + "x" + width + " images do not split into " + h + "x" + w + " cells");
        }
        int sy = height / h, sx = width / w, plane = height * width;
        float[] mask = new float[size * h * w];
        for (int b = 0; b < size; b++) {
            if (scenes.get(b) == null) continue;
            int base = b * 3 * plane;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    for (int c = 0; c < 3; c++) {
                        int i = base + c * plane;
                        if (Math.abs(pixels[i + y * width + x] - pixels[i]) > 0.2f) {
                            mask[(b * h + y / sy) * w + x / sx] = 1;
                            break;
                        }
                    }
                }
            }
        }
        return mask;
    }
}
