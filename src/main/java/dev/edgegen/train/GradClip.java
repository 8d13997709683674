package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Foreach;
import java.util.Collection;
import java.util.List;

/** Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /** Global norm √Σ‖g‖² over all gradients, in float64 (float32 squares overflow past 1.8e19); one fused call. */
    public static double globalNorm(Collection<NDArray> grads) {
        return Foreach.norm(List.copyOf(grads));
    }

    /** The name of the gradient with the largest L∞ norm (a non-finite one first) and that norm, for error messages. */
    public static String largest(java.util.Map<String, NDArray> grads) {
        String worst = null;
        double worstMax = -1;
        for (var e : grads.entrySet()) {
            try (NDArray a = e.getValue().abs(); NDArray m = a.max()) {
                double v = m.getFloat();
                if (Double.isNaN(v)) v = Double.POSITIVE_INFINITY;
                if (v > worstMax) { worstMax = v; worst = e.getKey(); }
            }
        }
        return worst + " (max |g| = " + worstMax + ")";
    }

    /**
     * Scales every gradient in place by min(1, maxNorm / (norm + 1e-6)); returns the norm before
     * clipping. {@code maxNorm <= 0} disables clipping.
     */
    public static double clip(Collection<NDArray> grads, double maxNorm) {
        List<NDArray> all = List.copyOf(grads);
        double norm = Foreach.norm(all);
        if (maxNorm > 0 && norm > maxNorm) {
            Foreach.scale(all, (float) (maxNorm / (norm + 1e-6)));
        }
        return norm;
    }
}
