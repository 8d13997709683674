package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.tensor.Autocast;

/** 2-D convolution (square kernel). Keys: {@code weight} (out, in/groups, k, k), {@code bias} (out). */
public final class Conv2d extends Module {
    public final Parameter weight; // (out, in/groups, k, k)
    public final Parameter bias;   // (out) or null
    public final int in;
    public final int out;
    public final int kernel;
    private final int stride;
    private final int padding;
    private final int groups;

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this(in, out, kernel, stride, padding, 1, true);
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
        this.weight = param("weight", Parameter.Init.NORMAL, out, in / groups, kernel, kernel);
        this.bias = bias ? param("bias", Parameter.Init.ZEROS, out) : null;
    }

    /** x: (B, in, H, W) → (B, out, H', W'); in bfloat16 inside an {@link Autocast} scope. */
    public NDArray forward(NDArray x) {
        return conv2d(x, weight.get(), bias == null ? null : bias.get(), stride, padding, groups);
    }

    /**
     * oneDNN (3.7.1, in libtorch 2.7.1) computes a convolution's input gradient in a channel-blocked layout (16
     * channels a block with AVX-512) and, on an AMD Zen 5 CPU, reads the padding of the last output-channel block
     * uninitialised: with 3 or 8 output channels the input gradient came out wrong or NaN at random (an autoencoder
     * diverged at step 0 in most runs; {@code Conv2dTest} catches it). With a multiple of 16 output channels there is
     * no padding, so training-mode convolutions are widened to one.
     */
    static final int OUT_BLOCK = 16;

    /**
     * x (B, in, H, W), w (out, in/groups, k, k), b (out) or null → (B, out, H', W'); in bfloat16 inside an
     * {@link Autocast} scope. When a gradient will flow and {@code out} is not a multiple of {@link #OUT_BLOCK}, the
     * convolution runs with zero filters prepended up to the next multiple and their channels are sliced off.
     */
    static NDArray conv2d(NDArray x, NDArray w, NDArray b, int stride, int padding, int groups) {
        long out = w.getShape().get(0);
        int extra = (int) ((OUT_BLOCK - out % OUT_BLOCK) % OUT_BLOCK);
        if (extra == 0 || groups != 1 || !JniUtils.isGradMode() || !(w.hasGradient() || x.hasGradient())) {
            return plain(x, w, b, stride, padding, groups);
        }
        NDManager m = x.getManager(); // ops attach results to their first operand's manager: the zeros come first
        Shape filter = w.getShape();
        NDArray wide = m.zeros(new Shape(extra, filter.get(1), filter.get(2), filter.get(3))).concat(w, 0); // (out + extra, in, k, k)
        NDArray wideBias = b == null ? null : m.zeros(new Shape(extra)).concat(b, 0);                    // (out + extra)
        return plain(x, wide, wideBias, stride, padding, groups).get(":, " + extra + ":");              // (B, out, H', W')
    }

    private static NDArray plain(NDArray x, NDArray w, NDArray b, int stride, int padding, int groups) {
        if (Autocast.active()) return Autocast.conv2d(x, w, b, stride, padding, 1, groups);
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, w, b, new Shape(stride, stride), new Shape(padding, padding),
                new Shape(1, 1), groups).singletonOrThrow();
    }

    /** Multiply-accumulate count per output pixel × 2 = FLOPs per output element. */
    public long flopsPerOutputPixel() {
        return 2L * (in / groups) * kernel * kernel * out;
    }
}
