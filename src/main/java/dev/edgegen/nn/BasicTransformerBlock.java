package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Ops;

/**
 * diffusers' BasicTransformerBlock (layer_norm type): x += attn1(norm1(x)); x += attn2(norm2(x), context);
 * x += ff(norm3(x)). Keys: norm1, attn1, norm2, attn2, norm3, ff.
 */
public final class BasicTransformerBlock extends Module {
    public final LayerNorm norm1;
    public final CrossAttention attn1;
    public final LayerNorm norm2;
    public final CrossAttention attn2;
    public final LayerNorm norm3;
    public final FeedForward ff;

    public BasicTransformerBlock(int dim, int heads, int dimHead, int contextDim) {
        norm1 = register("norm1", new LayerNorm(dim, 1e-5f));
        attn1 = register("attn1", new CrossAttention(dim, dim, heads, dimHead));
        norm2 = register("norm2", new LayerNorm(dim, 1e-5f));
        attn2 = register("attn2", new CrossAttention(dim, contextDim, heads, dimHead));
        norm3 = register("norm3", new LayerNorm(dim, 1e-5f));
        ff = register("ff", new FeedForward(dim, 4));
    }

    /** x: (B, N, D), context: (B, M, Dc) → (B, N, D). */
    public NDArray forward(NDArray x, NDArray context) {
        return Scope.run(x, () -> {
            NDArray h = Ops.addInPlace(attn1.forward(norm1.forward(x), null), x);
            h = Ops.addInPlace(h, attn2.forward(norm2.forward(h), context));
            return Ops.addInPlace(h, ff.forward(norm3.forward(h)));
        }, context);
    }

    public long flops(int batch, long n, long m) {
        return attn1.flops(batch, n, n) + attn2.flops(batch, n, m) + ff.flops(batch, n);
    }
}
