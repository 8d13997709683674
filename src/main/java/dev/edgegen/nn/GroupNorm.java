package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.GroupNormOp;

/** GroupNorm over (B, C, ...) with per-channel affine. Keys: {@code weight} (C), {@code bias} (C). */
public final class GroupNorm extends Module {
    public final Parameter weight; // (C)
    public final Parameter bias;   // (C)
    public final int groups;
    public final int channels;
    public final float eps;

    public GroupNorm(int groups, int channels, float eps) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException("channels " + channels + " not divisible by groups " + groups);
        }
        this.groups = groups;
        this.channels = channels;
        this.eps = eps;
        this.weight = param("weight", Parameter.Init.ONES, channels);
        this.bias = param("bias", Parameter.Init.ZEROS, channels);
    }

    /** x: (B, C, ...) → same shape. */
    public NDArray forward(NDArray x) {
        return GroupNormOp.forward(x, groups, weight.get(), bias.get(), eps, false);
    }

    /** SiLU(GroupNorm(x)) in one native call, as every ResNet block and output head uses it: (B, C, ...) → same shape. */
    public NDArray forwardSilu(NDArray x) {
        return GroupNormOp.forward(x, groups, weight.get(), bias.get(), eps, true);
    }
}
