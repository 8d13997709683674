package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.tensor.Autocast;

/** 2-D convolution (square kernel). Keys: {@code weight} (out, in/groups, k, k), {@code bias} (out). */
public final class Conv2d extends Module {
    public final Parameter weight; // (out, in/groups, k, k)
    public final Parameter bias;   // (out) or null
    public final int in;
    public final int out;
    public final int kernel;
    private final Shape stride;
    private final Shape padding;
    private final Shape dilation = new Shape(1, 1);
    private final int groups;

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this(in, out, kernel, stride, padding, 1, true);
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
        this.groups = groups;
        this.weight = param("weight", Parameter.Init.NORMAL, out, in / groups, kernel, kernel);
        this.bias = bias ? param("bias", Parameter.Init.ZEROS, out) : null;
    }

    /** x: (B, in, H, W) → (B, out, H', W'); in bfloat16 inside an {@link Autocast} scope. */
    public NDArray forward(NDArray x) {
        if (Autocast.active()) {
            return Autocast.conv2d(x, weight.get(), bias == null ? null : bias.get(), stride.get(0), padding.get(0), 1, groups);
        }
        return ai.djl.nn.convolutional.Conv2d.conv2d(
                x, weight.get(), bias == null ? null : bias.get(), stride, padding, dilation, groups)
                .singletonOrThrow();
    }

    /** Multiply-accumulate count per output pixel × 2 = FLOPs per output element. */
    public long flopsPerOutputPixel() {
        return 2L * (in / groups) * kernel * kernel * out;
    }
}
