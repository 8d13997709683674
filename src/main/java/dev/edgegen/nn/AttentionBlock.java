package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Ops;
import dev.edgegen.tensor.Attention;

/**
 * The VAE mid-block self-attention (diffusers' Attention with a group norm and residual, one head of
 * width C): x + to_out.0(attn(to_q(n), to_k(n), to_v(n))), n = group_norm(x) seen as (B, HW, C).
 * Keys: group_norm, to_q, to_k, to_v, to_out.0 (all with bias).
 */
public final class AttentionBlock extends Module {
    public final GroupNorm groupNorm;
    public final Linear toQ;
    public final Linear toK;
    public final Linear toV;
    public final Linear toOut;
    public final int channels;

    public AttentionBlock(int channels, int groups, float eps) {
        this.channels = channels;
        groupNorm = register("group_norm", new GroupNorm(groups, channels, eps));
        toQ = register("to_q", new Linear(channels, channels, true));
        toK = register("to_k", new Linear(channels, channels, true));
        toV = register("to_v", new Linear(channels, channels, true));
        ModuleList<Linear> out = register("to_out", new ModuleList<>());
        toOut = out.add(new Linear(channels, channels, true));
    }

    /** x: (B, C, H, W) → (B, C, H, W). */
    public NDArray forward(NDArray x) {
        return Scope.run(x, () -> {
            long h = x.getShape().get(2), w = x.getShape().get(3);
            NDArray seq = Transformer2DModel.toSequence(groupNorm.forward(x));   // (B, HW, C)
            NDArray a = Attention.forward(toQ.forward(seq), toK.forward(seq), toV.forward(seq), 1, false);
            return Ops.addInPlace(Transformer2DModel.fromSequence(toOut.forward(a), h, w), x);
        });
    }

    public long flops(int batch, int h, int w) {
        long n = (long) h * w;
        return 2L * batch * n * 4L * channels * channels + 4L * batch * n * n * channels;
    }
}
