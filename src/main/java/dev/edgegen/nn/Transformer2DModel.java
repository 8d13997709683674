package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Ops;

/**
 * diffusers' Transformer2DModel for continuous inputs: GroupNorm (eps 1e-6), proj_in (1×1 conv, or
 * Linear with use_linear_projection), transformer_blocks, proj_out, plus the input as residual.
 * Keys: norm, proj_in, transformer_blocks.{k}, proj_out.
 */
public final class Transformer2DModel extends Module {
    public final GroupNorm norm;
    public final Module projIn;   // Conv2d or Linear
    public final ModuleList<BasicTransformerBlock> blocks;
    public final Module projOut;  // Conv2d or Linear
    public final int channels;
    public final int inner;
    public final boolean linearProjection;

    public Transformer2DModel(int channels, int heads, int dimHead, int layers, int contextDim,
                              int groups, boolean linearProjection) {
        this.channels = channels;
        this.inner = heads * dimHead;
        this.linearProjection = linearProjection;
        norm = register("norm", new GroupNorm(groups, channels, 1e-6f));
        projIn = register("proj_in", linearProjection ? new Linear(channels, inner, true) : new Conv2d(channels, inner, 1, 1, 0));
        blocks = register("transformer_blocks", new ModuleList<>());
        for (int i = 0; i < layers; i++) {
            blocks.add(new BasicTransformerBlock(inner, heads, dimHead, contextDim));
        }
        projOut = register("proj_out", linearProjection ? new Linear(inner, channels, true) : new Conv2d(inner, channels, 1, 1, 0));
    }

    /** x: (B, C, H, W), context: (B, M, Dc) → (B, C, H, W). */
    public NDArray forward(NDArray x, NDArray context) {
        return Scope.run(x, () -> {
            long h = x.getShape().get(2), w = x.getShape().get(3);
            NDArray t = norm.forward(x);
            NDArray seq;                                                   // (B, HW, inner)
            if (linearProjection) {
                seq = ((Linear) projIn).forward(toSequence(t));
            } else {
                seq = toSequence(((Conv2d) projIn).forward(t));
            }
            for (BasicTransformerBlock blk : blocks.items()) {
                NDArray next = blk.forward(seq, context);
                seq.close();
                seq = next;
            }
            NDArray y;
            if (linearProjection) {
                y = fromSequence(((Linear) projOut).forward(seq), h, w);
            } else {
                y = ((Conv2d) projOut).forward(fromSequence(seq, h, w));
            }
            return Ops.addInPlace(y, x);
        }, context);
    }

    /** (B, C, H, W) → (B, H·W, C). */
    static NDArray toSequence(NDArray x) {
        long b = x.getShape().get(0), c = x.getShape().get(1), hw = x.getShape().get(2) * x.getShape().get(3);
        return x.reshape(b, c, hw).transpose(0, 2, 1).reshape(b, hw, c);
    }

    /** (B, H·W, C) → (B, C, H, W). */
    static NDArray fromSequence(NDArray x, long h, long w) {
        long b = x.getShape().get(0), c = x.getShape().get(2);
        return x.transpose(0, 2, 1).reshape(b, c, h, w);
    }

    /** 2·MACs at an H×W input with m context tokens. */
    public long flops(int batch, int h, int w, long m) {
        long n = (long) h * w;
        long f = 2L * 2 * batch * n * channels * inner;
        for (BasicTransformerBlock blk : blocks.items()) {
            f += blk.flops(batch, n, m);
        }
        return f;
    }
}
