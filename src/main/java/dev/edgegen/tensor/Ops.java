package dev.edgegen.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.jni.JniUtils;

/** Ops DJL lacks, composed from NDArray ops (see DJL-NOTES.md for why each is written this way). */
public final class Ops {
    private Ops() {}

    /**
     * True while autograd records (inside a GradientCollector): then ops must not overwrite tensors,
     * because autograd may have saved them for the backward pass.
     */
    public static boolean recording() {
        return JniUtils.isGradMode();
    }

    /** a + b, written into a when no gradient is being recorded. */
    public static NDArray addInPlace(NDArray a, NDArray b) {
        return recording() ? a.add(b) : a.addi(b);
    }

    /** a · b, written into a when no gradient is being recorded. */
    public static NDArray mulInPlace(NDArray a, NDArray b) {
        return recording() ? a.mul(b) : a.muli(b);
    }

    /** SiLU / swish: x · sigmoid(x). */
    public static NDArray silu(NDArray x) {
        return mulInPlace(Activation.sigmoid(x), x);
    }

    /** Exact (erf) GELU, as diffusers' "gelu". */
    public static NDArray gelu(NDArray x) {
        return Activation.gelu(x);
    }

    /** CLIP's quick GELU: x · sigmoid(1.702 x). */
    public static NDArray quickGelu(NDArray x) {
        return mulInPlace(Activation.sigmoid(x.mul(1.702f)), x);
    }

    /** Area downsampling: x (B, C, H, W) → (B, C, H/f, W/f), each output the mean of an f x f block. */
    public static NDArray areaDownsample(NDArray x, int f) {
        Shape s = x.getShape();
        long h = s.get(2), w = s.get(3);
        if (h % f != 0 || w % f != 0) throw new IllegalArgumentException(h + "x" + w + " is not divisible by " + f);
        return x.reshape(s.get(0), s.get(1), h / f, f, w / f, f).mean(new int[] {5}).mean(new int[] {3});
    }

    /**
     * Share of x's energy above the 2x-downsampled band: |x − up₂(down₂(x))|² / |x − mean(x)|², summed over a
     * batch (B, C, H, W), each (image, channel) centred on its own mean; down₂ is {@link #areaDownsample}, up₂
     * nearest-neighbour. Near 0 for smooth maps, up to 0.75 for white noise.
     */
    public static double highFrequencyShare(NDArray x) {
        try (NDManager scope = x.getManager().newSubManager()) {
            x.tempAttach(scope);
            NDArray low = areaDownsample(x, 2).repeat(2, 2).repeat(3, 2);
            NDArray centred = x.sub(x.mean(new int[] {3}, true).mean(new int[] {2}, true));
            return x.sub(low).square().sum().getFloat() / (double) centred.square().sum().getFloat();
        }
    }
}
