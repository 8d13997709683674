package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * diffusers' Downsample2D with a convolution: 3×3, stride 2. padding 1 (UNet) or 0, which pads
 * right and bottom by one first (VAE encoder). Key: conv.
 */
public final class Downsample2D extends Module {
    public final Conv2d conv;
    private final int padding;

    public Downsample2D(int in, int out, int padding) {
        if (padding != 0 && padding != 1) {
            throw new IllegalArgumentException("Downsample2D padding must be 0 or 1, got " + padding);
        }
        this.padding = padding;
        conv = register("conv", new Conv2d(in, out, 3, 2, padding));
    }

    /** x: (B, in, H, W) → (B, out, ⌈H/2⌉, ⌈W/2⌉) with padding 1, (B, out, ⌊H/2⌋, ⌊W/2⌋) with padding 0. */
    public NDArray forward(NDArray x) {
        if (padding == 0) {
            return Scope.run(x, () -> conv.forward(x.pad(new Shape(0, 1, 0, 1), 0.0)));
        }
        return conv.forward(x);
    }

    public long flops(int batch, int outH, int outW) {
        return (long) batch * outH * outW * conv.flopsPerOutputPixel();
    }
}
