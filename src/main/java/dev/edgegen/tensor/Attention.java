package dev.edgegen.tensor;

import ai.djl.ndarray.NDArray;

/**
 * Multi-head scaled dot-product attention, the UNet's and the text encoders' hot spot.
 * q (B, N, H·D), k and v (B, M, H·D) → (B, N, H·D); softmax(q kᵀ / √D) v per head.
 */
public final class Attention {
    private Attention() {}

    /** Reference implementation: materialises the full (B, H, N, M) score tensor. */
    public static NDArray reference(NDArray q, NDArray k, NDArray v, int heads, boolean causal) {
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
        NDArray out = scores.softmax(-1).matMul(vh);                    // (B, H, N, D)
        return out.transpose(0, 2, 1, 3).reshape(b, n, hd);
    }

    /** (N, M) additive mask: 0 where key j ≤ query i, -1e9 above the diagonal. */
    static NDArray causalMask(ai.djl.ndarray.NDManager manager, long n, long m) {
        NDArray rows = manager.arange((float) n).reshape(n, 1);
        NDArray cols = manager.arange((float) m).reshape(1, m);
        return cols.gt(rows).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(-1e9f);
    }

    /** The fast path used by the models; same contract as {@link #reference}. */
    public static NDArray forward(NDArray q, NDArray k, NDArray v, int heads, boolean causal) {
        return reference(q, k, v, heads, causal);
    }
}
