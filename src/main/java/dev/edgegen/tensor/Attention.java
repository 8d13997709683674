package dev.edgegen.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Consumer;

/**
 * Multi-head scaled dot-product attention, the UNet's and the text encoders' hot spot.
 * q (B, N, H·D), k and v (B, M, H·D) → (B, N, H·D); softmax(q kᵀ / √D) v per head.
 *
 * <p>{@link #forward} runs PyTorch's fused CPU flash attention ({@code scaled_dot_product_attention},
 * which never materialises the (N, M) score matrix) through a one-line TorchScript module ({@link ScriptOp});
 * DJL exposes no such op directly.
 * Measured in docs/results/attention-bench.md.
 */
public final class Attention {
    private Attention() {}

    /** Reference implementation: materialises the full (B, H, N, M) score tensor. */
    public static NDArray reference(NDArray q, NDArray k, NDArray v, int heads, boolean causal) {
        return reference(q, k, v, heads, causal, null);
    }

    /**
     * {@link #reference}, handing the probabilities softmax(q kᵀ / √D) (B, H, N, M) to {@code probabilities} (when not
     * null) before they are applied to v: for training losses on where tokens attend.
     */
    public static NDArray reference(NDArray q, NDArray k, NDArray v, int heads, boolean causal,
                                    Consumer<NDArray> probabilities) {
        long b = q.getShape().get(0);
        long n = q.getShape().get(1);
        long m = k.getShape().get(1);
        long hd = q.getShape().get(2);
        long d = hd / heads;
        NDArray qh = q.reshape(b, n, heads, d).transpose(0, 2, 1, 3);   // (B, H, N, D)
        NDArray kh = k.reshape(b, m, heads, d).transpose(0, 2, 3, 1);   // (B, H, D, M)
        NDArray vh = v.reshape(b, m, heads, d).transpose(0, 2, 1, 3);   // (B, H, M, D)
        NDArray scores = qh.matMul(kh).muli(1.0 / Math.sqrt(d));        // (B, H, N, M)
        if (causal) {
            scores = scores.add(causalMask(q.getManager(), n, m));
        }
        NDArray probs = scores.softmax(-1);                              // (B, H, N, M)
        if (probabilities != null) probabilities.accept(probs);
        NDArray out = probs.matMul(vh);                                 // (B, H, N, D)
        return out.transpose(0, 2, 1, 3).reshape(b, n, hd);
    }

    /** (N, M) additive mask: 0 where key j ≤ query i, -1e9 above the diagonal. */
    static NDArray causalMask(NDManager manager, long n, long m) {
        NDArray rows = manager.arange((float) n).reshape(n, 1);
        NDArray cols = manager.arange((float) m).reshape(1, m);
        return cols.gt(rows).toType(DataType.FLOAT32, false).mul(-1e9f);
    }

    /**
     * The fast path used by the models; same contract as {@link #reference} (causal: query i sees
     * keys j ≤ i). The result is attached to q's manager; gradients flow when gradient mode is on.
     */
    public static NDArray forward(NDArray q, NDArray k, NDArray v, int heads, boolean causal) {
        long d = checkShapes(q, k, v, heads);
        Shape qs = q.getShape();
        long b = qs.get(0);
        long n = qs.get(1);
        long m = k.getShape().get(1);
        ScriptOp op = causal ? Modules.CAUSAL : Modules.FULL;
        NDList heads4 = new NDList(
                splitHeads(q, b, n, heads, d),                            // (B, H, N, D) views
                splitHeads(k, b, m, heads, d),                            // (B, H, M, D)
                splitHeads(v, b, m, heads, d));                           // (B, H, M, D)
        NDArray out = op.call(heads4, !JniUtils.isGradMode());          // (B, H, N, D); copied below
        NDArray merged = out.transpose(0, 2, 1, 3);                       // (B, N, H, D)
        NDArray result = merged.reshape(qs);                              // (B, N, H·D)
        heads4.close();
        out.close();
        merged.close();
        return result;
    }

    /** x (B, L, H·D) → strided view (B, H, L, D), no copy. */
    private static NDArray splitHeads(NDArray x, long b, long len, int heads, long d) {
        NDArray split = x.reshape(b, len, heads, d);                      // (B, L, H, D)
        NDArray view = split.transpose(0, 2, 1, 3);
        split.close();
        return view;
    }

    /** Validates the shapes and returns the head size D. */
    private static long checkShapes(NDArray q, NDArray k, NDArray v, int heads) {
        Shape qs = q.getShape();
        Shape ks = k.getShape();
        if (qs.dimension() != 3 || ks.dimension() != 3 || !ks.equals(v.getShape())) {
            throw new IllegalArgumentException("attention expects q (B, N, H*D) and k, v (B, M, H*D) of equal shape;"
                    + " got q " + qs + ", k " + ks + ", v " + v.getShape());
        }
        if (qs.get(0) != ks.get(0) || qs.get(2) != ks.get(2)) {
            throw new IllegalArgumentException("attention: q " + qs + " and k " + ks
                    + " must agree in batch (dim 0) and width H*D (dim 2)");
        }
        if (heads <= 0 || qs.get(2) % heads != 0) {
            throw new IllegalArgumentException("attention: width " + qs.get(2) + " is not divisible by heads=" + heads);
        }
        return qs.get(2) / heads;
    }

    /** The two TorchScript ops, compiled by libtorch on first use and kept for the process. */
    private static final class Modules {
        static final ScriptOp FULL = load("Sdpa", "False");
        static final ScriptOp CAUSAL = load("CausalSdpa", "True");

        private static ScriptOp load(String className, String isCausal) {
            return ScriptOp.compile(className, "torch.scaled_dot_product_attention(q, k, v, None, 0., " + isCausal + ")", "q", "k", "v");
        }
    }
}
