package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * 2-D transposed convolution (square kernel), PyTorch layout. Keys: {@code weight} (in, out, k, k),
 * {@code bias} (out). DJL's PyTorch engine lacks conv_transpose2d, so it is computed exactly as a
 * sub-pixel convolution: one stride-1 conv producing out·s² channels (each phase's kernel taps
 * gathered from the transposed kernel, zeros elsewhere) followed by a pixel shuffle. Supports
 * kernel − 2·padding = stride (output exactly stride× the input), e.g. (4, 2, 1) and (3, 3, 0).
 */
public final class ConvTranspose2d extends Module {
    public final Parameter weight; // (in, out, k, k)
    public final Parameter bias;   // (out)
    public final int in;
    public final int out;
    public final int kernel;
    public final int stride;
    public final int padding;
    private final int taps;        // conv kernel size of the sub-pixel form
    private final long[] gather;   // sub-pixel conv weight element → index into weight (or the appended zero)

    public ConvTranspose2d(int in, int out, int kernel, int stride, int padding) {
        if (kernel - 2 * padding != stride) {
            throw new IllegalArgumentException("ConvTranspose2d supports kernel - 2*padding == stride, got kernel "
                    + kernel + ", stride " + stride + ", padding " + padding);
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.weight = param("weight", Parameter.Init.NORMAL, in, out, kernel, kernel);
        this.bias = param("bias", Parameter.Init.ZEROS, out);
        // out[q·s + r] = Σ_d in[q − d] · w[d·s + r + p]; input offset e = −d spans [−emax, emax]
        int emax = 0;
        for (int r = 0; r < stride; r++) {
            for (int d = -kernel; d <= kernel; d++) {
                int kk = d * stride + r + padding;
                if (kk >= 0 && kk < kernel) emax = Math.max(emax, Math.abs(d));
            }
        }
        taps = 2 * emax + 1;
        long zero = (long) in * out * kernel * kernel;
        gather = new long[out * stride * stride * in * taps * taps];
        int i = 0;
        for (int o = 0; o < out; o++) for (int ry = 0; ry < stride; ry++) for (int rx = 0; rx < stride; rx++) {
            for (int c = 0; c < in; c++) for (int jy = 0; jy < taps; jy++) for (int jx = 0; jx < taps; jx++) {
                int ky = (emax - jy) * stride + ry + padding, kx = (emax - jx) * stride + rx + padding;
                boolean ok = ky >= 0 && ky < kernel && kx >= 0 && kx < kernel;
                gather[i++] = ok ? ((((long) c * out + o) * kernel + ky) * kernel + kx) : zero;
            }
        }
    }

    /** x: (B, in, H, W) → (B, out, H·stride, W·stride). */
    public NDArray forward(NDArray x) {
        long b = x.getShape().get(0), h = x.getShape().get(2), w = x.getShape().get(3);
        int s = stride;
        NDArray flat = weight.get().reshape(-1).concat(x.getManager().zeros(new Shape(1)));
        NDArray wc = flat.take(x.getManager().create(gather)).reshape(out * s * s, in, taps, taps);
        NDArray bc = bias.get().reshape(out, 1).repeat(1, s * s).reshape(-1);
        NDArray y = Conv2d.conv2d(x, wc, bc, 1, taps / 2, 1);             // (B, out·s², H, W)
        return y.reshape(b, out, s, s, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(b, out, h * s, w * s);
    }

    /** FLOPs per input pixel of the transposed conv itself (each input pixel scatters into kernel² outputs per channel). */
    public long flopsPerInputPixel() {
        return 2L * in * out * kernel * kernel;
    }

    /** FLOPs per input pixel as computed here (sub-pixel conv with taps² positions per phase). */
    public long executedFlopsPerInputPixel() {
        return 2L * in * out * stride * stride * taps * taps;
    }
}
