package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Autocast;

/** y = x W^T + b. Checkpoint keys: {@code weight} (out, in), {@code bias} (out). */
public final class Linear extends Module {
    public final Parameter weight; // (out, in)
    public final Parameter bias;   // (out) or null
    public final int in;
    public final int out;

    public Linear(int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = param("weight", Parameter.Init.NORMAL, out, in);
        this.bias = bias ? param("bias", Parameter.Init.ZEROS, out) : null;
    }

    /** x: (..., in) → (..., out); in bfloat16 inside an {@link Autocast} scope. */
    public NDArray forward(NDArray x) {
        if (Autocast.active()) return Autocast.linear(x, weight.get(), bias == null ? null : bias.get());
        return bias == null
                ? ai.djl.nn.core.Linear.linear(x, weight.get()).singletonOrThrow()
                : ai.djl.nn.core.Linear.linear(x, weight.get(), bias.get()).singletonOrThrow();
    }
}
