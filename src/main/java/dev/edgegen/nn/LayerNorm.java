package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** LayerNorm over the last axis. Keys: {@code weight} (D), {@code bias} (D). */
public final class LayerNorm extends Module {
    public final Parameter weight; // (D)
    public final Parameter bias;   // (D)
    public final int dim;
    public final float eps;

    public LayerNorm(int dim, float eps) {
        this.dim = dim;
        this.eps = eps;
        this.weight = param("weight", Parameter.Init.ONES, dim);
        this.bias = param("bias", Parameter.Init.ZEROS, dim);
    }

    /** x: (..., D) → same shape. */
    public NDArray forward(NDArray x) {
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(dim), weight.get(), bias.get(), eps)
                .singletonOrThrow();
    }
}
