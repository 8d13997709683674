package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Attention;

/**
 * diffusers' Attention as used in BasicTransformerBlock: to_q, to_k, to_v (no bias), to_out.0 (with
 * bias); softmax(q kᵀ / √dHead) v over {@code heads} heads. Self-attention when context is null.
 */
public final class CrossAttention extends Module {
    public final Linear toQ;
    public final Linear toK;
    public final Linear toV;
    public final Linear toOut;
    public final int heads;
    public final int dimHead;
    public final int queryDim;
    public final int contextDim;

    /** contextDim: key/value input width (= queryDim for self-attention). */
    public CrossAttention(int queryDim, int contextDim, int heads, int dimHead) {
        this.heads = heads;
        this.dimHead = dimHead;
        this.queryDim = queryDim;
        this.contextDim = contextDim;
        int inner = heads * dimHead;
        toQ = register("to_q", new Linear(queryDim, inner, false));
        toK = register("to_k", new Linear(contextDim, inner, false));
        toV = register("to_v", new Linear(contextDim, inner, false));
        ModuleList<Linear> out = register("to_out", new ModuleList<>());
        toOut = out.add(new Linear(inner, queryDim, true));
    }

    /** x: (B, N, queryDim), context: (B, M, contextDim) or null → (B, N, queryDim). */
    public NDArray forward(NDArray x, NDArray context) {
        NDArray ctx = context == null ? x : context;
        if (ctx.getShape().get(2) != contextDim) {
            throw new IllegalArgumentException("attention context has width " + ctx.getShape().get(2)
                    + " but this layer expects " + contextDim + " (cross_attention_dim)");
        }
        AttentionMaps recorder = context == null ? null : AttentionMaps.active();
        return Scope.run(x, () -> {
            NDArray q = toQ.forward(x);    // (B, N, H·D)
            NDArray k = toK.forward(ctx);  // (B, M, H·D)
            NDArray v = toV.forward(ctx);  // (B, M, H·D)
            NDArray a = recorder == null ? Attention.forward(q, k, v, heads, false)
                    : Attention.reference(q, k, v, heads, false, p -> recorder.add(p.mean(new int[] {1})));   // (B, N, M) kept
            return toOut.forward(a);
        }, context);
    }

    /** 2·MACs of the projections and the two attention matmuls, n queries against m keys. */
    public long flops(int batch, long n, long m) {
        long inner = (long) heads * dimHead;
        long proj = 2L * batch * (n * queryDim * inner + 2 * m * contextDim * inner + n * inner * queryDim);
        return proj + 4L * batch * n * m * inner;
    }
}
