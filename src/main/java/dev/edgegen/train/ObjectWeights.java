package dev.edgegen.train;

import dev.edgegen.data.Scene;
import java.util.Arrays;

/**
 * Per-position weights of the denoising loss that stress the objects of a synthetic scene. Telling one shape from
 * another is decided in the few latent cells on and around an object's outline, a small share of a 16x16 latent
 * whose flat background is easy to denoise, so the shape words get a small share of the gradient. Each cell covered
 * by an object, or next to one (the union of the objects' masks, dilated by one cell), counts 1 + k times as much as
 * the rest, and the weights are scaled to mean 1 over the sample: weighting moves the loss within a sample, never
 * between samples or timesteps. Samples without a scene (emoji) get 1 everywhere.
 * <p>The weights depend on the clean image, so they bias what the model learns: the minimiser of a weighted squared
 * error is the weighted posterior mean, and where the noisy latent leaves open whether a cell is part of an object,
 * scenes in which it is count more. Trained with k = 3 the model draws extra objects (docs/training.md, session 19);
 * a short stage without the weight afterwards removes them and keeps the shapes. {@code "object_weight_max_t"} limits
 * the weight to low-noise samples, where the noisy latent shows the objects and the bias is small.
 */
final class ObjectWeights {
    private ObjectWeights() {}

    /** The weights (side² values, row-major, mean 1) of a latent of side {@code side} (dividing the mask grid). */
    static float[] of(Scene scene, int side, double k) {
        float[] w = new float[side * side];
        if (scene == null || scene.objects().isEmpty()) {
            Arrays.fill(w, 1f);
            return w;
        }
        if (AttentionLoss.GRID % side != 0) {
            throw new IllegalArgumentException("object_weight needs a latent side dividing " + AttentionLoss.GRID + ", got " + side);
        }
        float[] union = new float[side * side];
        for (Scene.Obj o : scene.objects()) {
            float[] m = AttentionLoss.pool(AttentionLoss.mask(o), side);
            for (int p = 0; p < union.length; p++) union[p] = Math.max(union[p], m[p]);
        }
        double sum = 0;
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                float near = 0;                                       // max over the 3x3 neighbourhood
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy >= 0 && yy < side && xx >= 0 && xx < side) near = Math.max(near, union[yy * side + xx]);
                    }
                }
                w[y * side + x] = (float) (1 + k * near);
                sum += w[y * side + x];
            }
        }
        float scale = (float) (w.length / sum);
        for (int p = 0; p < w.length; p++) w[p] *= scale;
        return w;
    }
}
