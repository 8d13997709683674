package dev.edgegen.sampling;

import java.util.Arrays;

/**
 * Schedule arithmetic shared by the samplers, written to give diffusers' numbers: betas and
 * cumulative alphas in float32 as torch makes them (cumprod accumulates in double, as torch's CPU
 * kernel does), and numpy's float64 {@code linspace}, {@code arange}, {@code round} (half to even)
 * and {@code interp} for timesteps and sigmas.
 */
final class NoiseSchedules {
    private NoiseSchedules() {}

    /** Betas (numTrainTimesteps) in float32, zero-terminal-SNR rescaled if the config asks. */
    static float[] betas(SchedulerConfig c) {
        int n = c.numTrainTimesteps();
        float[] betas;
        if (c.trainedBetas() != null) {
            betas = c.trainedBetas();
        } else {
            betas = switch (c.betaSchedule()) {
                case LINEAR -> torchLinspace(c.betaStart(), c.betaEnd(), n);
                case SCALED_LINEAR -> {
                    float[] b = torchLinspace(Math.sqrt(c.betaStart()), Math.sqrt(c.betaEnd()), n);
                    for (int i = 0; i < n; i++) {
                        b[i] = b[i] * b[i];
                    }
                    yield b;
                }
                case SQUAREDCOS_CAP_V2 -> cosineBetas(n);
            };
        }
        return c.rescaleBetasZeroSnr() ? rescaleZeroTerminalSnr(betas) : betas;
    }

    /** alphas_cumprod = cumprod(1 - betas), float32. */
    static float[] alphasCumprod(float[] betas) {
        float[] out = new float[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= (1f - betas[i]);
            out[i] = (float) acc;
        }
        return out;
    }

    /** torch.linspace(start, end, steps, dtype=float32): float arithmetic, symmetric about the middle. */
    static float[] torchLinspace(double start, double end, int steps) {
        float s = (float) start;
        float e = (float) end;
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (float) (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? s + step * (float) i : e - step * (float) (steps - i - 1);
        }
        return out;
    }

    /** Improved-DDPM cosine schedule (squaredcos_cap_v2), max beta 0.999. */
    private static float[] cosineBetas(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            out[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
        }
        return out;
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1. */
    private static float[] rescaleZeroTerminalSnr(float[] betas) {
        int n = betas.length;
        float[] sqrtBar = alphasCumprod(betas);
        for (int i = 0; i < n; i++) {
            sqrtBar[i] = (float) Math.sqrt(sqrtBar[i]);
        }
        float first = sqrtBar[0];
        float last = sqrtBar[n - 1];
        float scale = first / (first - last);
        float[] bar = new float[n];
        for (int i = 0; i < n; i++) {
            float v = (sqrtBar[i] - last) * scale;
            bar[i] = v * v;
        }
        float[] out = new float[n];
        out[0] = 1f - bar[0];
        for (int i = 1; i < n; i++) {
            out[i] = 1f - bar[i] / bar[i - 1];
        }
        return out;
    }

    /** Training sigmas sqrt((1 - ᾱ) / ᾱ) in float32, indexed by training timestep. */
    static float[] trainingSigmas(float[] alphasCumprod) {
        float[] out = new float[alphasCumprod.length];
        for (int i = 0; i < out.length; i++) {
            float a = alphasCumprod[i];
            out[i] = (float) Math.sqrt((1f - a) / a);
        }
        return out;
    }

    /** numpy.linspace(start, stop, num) in float64, endpoint included. */
    static double[] linspace(double start, double stop, int num) {
        double[] out = new double[num];
        if (num == 1) {
            out[0] = start;
            return out;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            out[i] = i * step + start;
        }
        out[num - 1] = stop;
        return out;
    }

    /** numpy.arange(start, stop, step) in float64 (length ceil((stop-start)/step), start + i·delta). */
    static double[] arange(double start, double stop, double step) {
        int len = (int) Math.max(0, Math.ceil((stop - start) / step));
        double[] out = new double[len];
        if (len == 0) {
            return out;
        }
        double delta = (start + step) - start;
        out[0] = start;
        for (int i = 1; i < len; i++) {
            out[i] = start + i * delta;
        }
        return out;
    }

    /** numpy.interp(x, arange(len(fp)), fp) in float64. */
    static double interp(double x, float[] fp) {
        int last = fp.length - 1;
        if (x <= 0) {
            return fp[0];
        }
        if (x >= last) {
            return fp[last];
        }
        int j = (int) Math.floor(x);
        if (x == j) {
            return fp[j];
        }
        double slope = ((double) fp[j + 1] - fp[j]);
        return slope * (x - j) + fp[j];
    }

    /** Karras et al. 2022 (EDM) eq. 5 sigmas, rho = 7, from sigmaMax down to sigmaMin, float64. */
    static double[] karras(double sigmaMin, double sigmaMax, int steps) {
        double rho = 7.0;
        double[] ramp = linspace(0, 1, steps);
        double minInv = Math.pow(sigmaMin, 1 / rho);
        double maxInv = Math.pow(sigmaMax, 1 / rho);
        double[] out = new double[steps];
        for (int i = 0; i < steps; i++) {
            out[i] = Math.pow(maxInv + ramp[i] * (minInv - maxInv), rho);
        }
        return out;
    }

    /** float32 log of each training sigma (numpy log of a float32 array). */
    static float[] logs(float[] sigmas) {
        float[] out = new float[sigmas.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.log(sigmas[i]);
        }
        return out;
    }

    /** The fractional training timestep of {@code sigma}: linear interpolation in log-sigma. */
    static double sigmaToT(double sigma, float[] logSigmas) {
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        int low = 0;
        for (int i = 0; i < logSigmas.length; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                low = i;
            }
        }
        low = Math.min(low, logSigmas.length - 2);
        double lo = logSigmas[low];
        double hi = logSigmas[low + 1];
        double w = Math.min(1, Math.max(0, (lo - logSigma) / (lo - hi)));
        return (1 - w) * low + w * (low + 1);
    }

    /**
     * Inference timesteps, descending, by diffusers' spacing rules for DDIM/Euler-style samplers:
     * linspace over [0, N-1] (rounded half-to-even when {@code roundLinspace}), leading
     * {@code i * (N / steps) + offset}, or trailing {@code round(N - i * N / steps) - 1}.
     */
    static double[] spacedTimesteps(SchedulerConfig.TimestepSpacing spacing, int trainSteps, int steps, int offset,
            boolean roundLinspace) {
        double[] t;
        switch (spacing) {
            case LINSPACE -> {
                double[] lin = linspace(0, trainSteps - 1, steps);
                t = new double[steps];
                for (int i = 0; i < steps; i++) {
                    double v = lin[steps - 1 - i];
                    t[i] = roundLinspace ? Math.rint(v) : v;
                }
            }
            case LEADING -> {
                int ratio = trainSteps / steps;
                t = new double[steps];
                for (int i = 0; i < steps; i++) {
                    t[i] = (double) (steps - 1 - i) * ratio + offset;
                }
            }
            case TRAILING -> {
                // numpy's float arange yields one extra, negative timestep for some counts (e.g. 61 of
                // 1000); diffusers keeps it, we keep exactly `steps` values.
                double[] all = arange(trainSteps, 0, -((double) trainSteps / steps));
                t = Arrays.copyOf(all, Math.min(all.length, steps));
                for (int i = 0; i < t.length; i++) {
                    t[i] = Math.rint(t[i]) - 1;
                }
            }
            default -> throw new IllegalStateException(spacing.toString());
        }
        return t;
    }

    static void checkIndex(int index, int steps) {
        if (index < 0 || index >= steps) {
            throw new IllegalArgumentException("step index " + index + " is outside the " + steps + " prepared steps");
        }
    }
}
