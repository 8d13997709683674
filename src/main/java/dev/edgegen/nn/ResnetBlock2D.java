package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Ops;

/**
 * diffusers' ResnetBlock2D (default time-embedding shift, output scale 1):
 * out = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(silu(temb))))).
 * Keys: norm1, conv1, time_emb_proj (only with temb channels &gt; 0), norm2, conv2, conv_shortcut (in ≠ out).
 */
public final class ResnetBlock2D extends Module {
    public final GroupNorm norm1;
    public final Conv2d conv1;
    public final Linear timeEmbProj;  // null without time embedding (VAE)
    public final GroupNorm norm2;
    public final Conv2d conv2;
    public final Conv2d convShortcut; // null when in == out
    public final int in;
    public final int out;

    /** tembChannels 0 = no time embedding. */
    public ResnetBlock2D(int in, int out, int tembChannels, int groups, float eps) {
        this.in = in;
        this.out = out;
        norm1 = register("norm1", new GroupNorm(groups, in, eps));
        conv1 = register("conv1", new Conv2d(in, out, 3, 1, 1));
        timeEmbProj = tembChannels > 0 ? register("time_emb_proj", new Linear(tembChannels, out, true)) : null;
        norm2 = register("norm2", new GroupNorm(groups, out, eps));
        conv2 = register("conv2", new Conv2d(out, out, 3, 1, 1));
        convShortcut = in != out ? register("conv_shortcut", new Conv2d(in, out, 1, 1, 0)) : null;
    }

    /** x: (B, in, H, W), temb: (B, T) or null → (B, out, H, W). */
    public NDArray forward(NDArray x, NDArray temb) {
        if (timeEmbProj != null && temb == null) {
            throw new IllegalArgumentException("this ResnetBlock2D has a time_emb_proj and needs a time embedding");
        }
        return Scope.run(x, () -> {
            NDArray h = conv1.forward(norm1.forwardSilu(x));                    // (B, out, H, W)
            if (timeEmbProj != null) {
                NDArray t = timeEmbProj.forward(Ops.silu(temb));                // (B, out)
                h = Ops.addInPlace(h, t.reshape(t.getShape().get(0), out, 1, 1));
            }
            h = conv2.forward(norm2.forwardSilu(h));
            return Ops.addInPlace(h, shortcut(x));
        }, temb);
    }

    /** The block with its residual branch dropped (used when a block is skipped): x or conv_shortcut(x). */
    public NDArray shortcut(NDArray x) {
        return convShortcut == null ? x : convShortcut.forward(x);
    }

    /** 2·MACs of the convolutions and the time projection at an H×W input. */
    public long flops(int batch, int h, int w) {
        long px = (long) batch * h * w;
        long f = px * (conv1.flopsPerOutputPixel() + conv2.flopsPerOutputPixel());
        if (convShortcut != null) f += px * convShortcut.flopsPerOutputPixel();
        if (timeEmbProj != null) f += 2L * batch * timeEmbProj.in * timeEmbProj.out;
        return f;
    }
}
