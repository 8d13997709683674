package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import java.util.Collection;

/** Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /** Global norm √Σ‖g‖² over all gradients (double accumulation). */
    public static double globalNorm(Collection<NDArray> grads) {
        double sum = 0;
        for (NDArray g : grads) {
            try (NDArray sq = g.square(); NDArray s = sq.sum()) {
                sum += s.getFloat();
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales every gradient in place by min(1, maxNorm / (norm + 1e-6)); returns the norm before
     * clipping. {@code maxNorm <= 0} disables clipping.
     */
    public static double clip(Collection<NDArray> grads, double maxNorm) {
        double norm = globalNorm(grads);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (NDArray g : grads) g.muli(scale);
        }
        return norm;
    }
}
