package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;

/** diffusers' Upsample2D: nearest-neighbour 2× then a 3×3 convolution. Key: conv. */
public final class Upsample2D extends Module {
    public final Conv2d conv;

    public Upsample2D(int in, int out) {
        conv = register("conv", new Conv2d(in, out, 3, 1, 1));
    }

    /** x: (B, in, H, W) → (B, out, 2H, 2W). */
    public NDArray forward(NDArray x) {
        return Scope.run(x, () -> conv.forward(nearest2x(x)));
    }

    /** (B, C, H, W) → (B, C, 2H, 2W), each pixel copied to a 2×2 square. */
    public static NDArray nearest2x(NDArray x) {
        long b = x.getShape().get(0), c = x.getShape().get(1), h = x.getShape().get(2), w = x.getShape().get(3);
        return x.reshape(b, c, h, 1, w, 1).broadcast(b, c, h, 2, w, 2).reshape(b, c, 2 * h, 2 * w);
    }

    /** outH, outW: the upsampled size. */
    public long flops(int batch, int outH, int outW) {
        return (long) batch * outH * outW * conv.flopsPerOutputPixel();
    }
}
