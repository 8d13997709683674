package dev.edgegen.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * GroupNorm, optionally followed by SiLU: x (B, C, ...) normalised over each group of C/G channels and all
 * positions, then per-channel scale gamma (C) and shift beta (C). Every UNet and VAE block has one or two.
 *
 * <p>{@link #forward} runs libtorch's native {@code group_norm} (and {@code silu}) kernels through a one-line
 * TorchScript module ({@link ScriptOp}), one per (groups, eps, silu);
 * DJL exposes no GroupNorm. Forward and backward are each one native kernel instead of the ~6 ops (and their
 * backward ops) of {@link #reference}; what that does to whole training steps is in docs/results/training-speed.md.
 * The input is made contiguous first, as the reference's reshape does: the transformers' (B, HW, C) → (B, C, H, W)
 * view is channels-last, the native kernel would keep that layout, and DJL's {@code toFloatArray} of a
 * non-contiguous result leaves a contiguous copy in the caller's manager.
 */
public final class GroupNormOp {
    private GroupNormOp() {}

    private static final Map<String, ScriptOp> OPS = new ConcurrentHashMap<>();

    /**
     * The fast path used by the models. The result is attached to x's manager; gradients flow to x, gamma and
     * beta when gradient mode is on.
     */
    public static NDArray forward(NDArray x, int groups, NDArray gamma, NDArray beta, float eps, boolean silu) {
        check(x, groups, gamma, beta);
        ScriptOp op = OPS.computeIfAbsent(groups + "/" + eps + "/" + silu, k -> compile(groups, eps, silu));
        // not in inference mode: the models apply in-place ops to the result outside training
        return op.call(new NDList(x, gamma, beta), false);
    }

    /**
     * Reference composed from DJL ops: LayerNorm over (C/G, rest) of a (B, G, C/G, rest) view, then the affine
     * (and SiLU). ~2x faster than mean/variance ops; kept to test {@link #forward} against.
     */
    public static NDArray reference(NDArray x, int groups, NDArray gamma, NDArray beta, float eps, boolean silu) {
        check(x, groups, gamma, beta);
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long rest = s.size() / (b * c);
        Shape normShape = new Shape(c / groups, rest);
        NDArray grouped = x.reshape(b, groups, c / groups, rest);
        // layerNorm requires gamma/beta of the normalised shape; ones/zeros are attached to x's manager.
        NDArray ones = x.getManager().ones(normShape);
        NDArray zeros = x.getManager().zeros(normShape);
        NDArray normed = LayerNorm.layerNorm(grouped, normShape, ones, zeros, eps).singletonOrThrow();
        ones.close();
        zeros.close();
        Shape affine = new Shape(1, c, 1);
        // reshaped views of the weights would be attached to the weights' manager and leak there
        NDArray g = gamma.reshape(affine);
        NDArray bt = beta.reshape(affine);
        g.attach(x.getManager());
        bt.attach(x.getManager());
        NDArray y = Ops.addInPlace(Ops.mulInPlace(normed.reshape(b, c, rest), g), bt);
        g.close();
        bt.close();
        y = y.reshape(s);
        return silu ? Ops.silu(y) : y;
    }

    /** Validates the shapes. */
    private static void check(NDArray x, int groups, NDArray gamma, NDArray beta) {
        Shape s = x.getShape();
        if (s.dimension() < 2) throw new IllegalArgumentException("group norm expects (B, C, ...), got " + s);
        long c = s.get(1);
        if (groups <= 0 || c % groups != 0) {
            throw new IllegalArgumentException("group norm: " + c + " channels are not divisible by " + groups + " groups");
        }
        if (gamma.getShape().size() != c || beta.getShape().size() != c) {
            throw new IllegalArgumentException("group norm over " + c + " channels got gamma " + gamma.getShape()
                    + " and beta " + beta.getShape());
        }
    }

    private static ScriptOp compile(int groups, float eps, boolean silu) {
        String className = "GroupNorm" + groups + "_" + Integer.toHexString(Float.floatToIntBits(eps)) + (silu ? "_Silu" : "");
        String norm = String.format(Locale.ROOT, "torch.group_norm(x.contiguous(), %d, w, b, %s)", groups, Double.toString(eps));
        return ScriptOp.compile(className, silu ? "torch.silu(" + norm + ")" : norm, "x", "w", "b");
    }
}
