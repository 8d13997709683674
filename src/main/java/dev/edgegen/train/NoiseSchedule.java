package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.sampling.SchedulerConfig;

/**
 * The forward diffusion process used for training: ᾱ_t for t = 0 … T−1, taken from a diffusers
 * scheduler config exactly as the samplers compute it (so a model is trained and sampled on the same
 * schedule, zero-terminal-SNR rescale included).
 * x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε; the v-prediction target is √ᾱ_t ε − √(1−ᾱ_t) x0.
 */
public record NoiseSchedule(double[] alphasCumprod) {
    public static NoiseSchedule of(SchedulerConfig config) {
        float[] ab = config.alphasCumprod();
        double[] d = new double[ab.length];
        for (int i = 0; i < ab.length; i++) d[i] = ab[i];
        return new NoiseSchedule(d);
    }

    /** Stable Diffusion's schedule: scaled_linear, 1000 steps, β 0.00085 → 0.012. */
    public static NoiseSchedule sd() { return of(SchedulerConfig.sd15()); }

    /** True when the last timestep is pure noise (ᾱ_{T−1} = 0, zero terminal SNR). */
    public boolean zeroTerminalSnr() { return alphasCumprod[alphasCumprod.length - 1] == 0; }

    public int steps() { return alphasCumprod.length; }

    /** Per-sample coefficient (B, 1, 1, 1) in {@code m}: √ᾱ_t (signal) or √(1−ᾱ_t) (noise). */
    public NDArray coefficient(NDManager m, int[] t, boolean signal) {
        float[] c = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            double ab = alphasCumprod[t[i]];
            c[i] = (float) Math.sqrt(signal ? ab : 1 - ab);
        }
        return m.create(c, new Shape(t.length, 1, 1, 1));
    }

    /** x_t from clean x0 (B, C, H, W) and noise of the same shape. */
    public NDArray addNoise(NDArray x0, NDArray noise, int[] t) {
        NDManager m = x0.getManager();
        return x0.mul(coefficient(m, t, true)).add(noise.mul(coefficient(m, t, false)));
    }

    /** The v-prediction target √ᾱ_t ε − √(1−ᾱ_t) x0. */
    public NDArray velocity(NDArray x0, NDArray noise, int[] t) {
        NDManager m = x0.getManager();
        return noise.mul(coefficient(m, t, true)).sub(x0.mul(coefficient(m, t, false)));
    }
}
