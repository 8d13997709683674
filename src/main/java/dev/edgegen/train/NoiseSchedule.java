package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The forward diffusion process used for training: ᾱ_t for t = 0 … T−1, as diffusers' DDPM
 * ("scaled_linear": β = linspace(√β0, √β1, T)²; "linear": linspace(β0, β1, T)).
 * x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε; the v-prediction target is √ᾱ_t ε − √(1−ᾱ_t) x0.
 */
public record NoiseSchedule(double[] alphasCumprod) {
    public static NoiseSchedule of(String betaSchedule, int steps, double betaStart, double betaEnd) {
        if (steps < 2) throw new IllegalArgumentException("train timesteps must be >= 2, got " + steps);
        if (!(betaStart > 0 && betaEnd > betaStart && betaEnd < 1)) {
            throw new IllegalArgumentException("need 0 < beta_start < beta_end < 1, got " + betaStart + ", " + betaEnd);
        }
        double[] ab = new double[steps];
        double prod = 1;
        for (int i = 0; i < steps; i++) {
            double f = i / (double) (steps - 1);
            double beta = switch (betaSchedule) {
                case "scaled_linear" -> Math.pow(Math.sqrt(betaStart) + f * (Math.sqrt(betaEnd) - Math.sqrt(betaStart)), 2);
                case "linear" -> betaStart + f * (betaEnd - betaStart);
                default -> throw new IllegalArgumentException("unknown beta_schedule '" + betaSchedule + "' (use scaled_linear or linear)");
            };
            prod *= 1 - beta;
            ab[i] = prod;
        }
        return new NoiseSchedule(ab);
    }

    /** Stable Diffusion's schedule: scaled_linear, 1000 steps, β 0.00085 → 0.012. */
    public static NoiseSchedule sd() { return of("scaled_linear", 1000, 0.00085, 0.012); }

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
