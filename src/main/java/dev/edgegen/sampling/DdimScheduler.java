package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Randn;
import java.util.Random;

/**
 * DDIM (Song et al. 2021, "Denoising Diffusion Implicit Models", eq. 12) with diffusers' semantics:
 * the previous timestep is always {@code t - numTrainTimesteps / steps}, x0 is clipped when
 * clip_sample is set, and eta > 0 adds DDPM-like noise. eta = 0 (default) is deterministic.
 */
public final class DdimScheduler implements Scheduler {
    private final SchedulerConfig config;
    private final float eta;
    private final float[] alphasCumprod;  // (numTrainTimesteps) float32
    private final float finalAlphaCumprod;
    private final boolean clipSample;
    private final SchedulerConfig.TimestepSpacing spacing;
    private float[] timesteps;            // (steps) descending, integer-valued
    private int steps;

    public DdimScheduler(SchedulerConfig config) {
        this(config, 0f);
    }

    public DdimScheduler(SchedulerConfig config, float eta) {
        if (!(eta >= 0 && eta <= 1)) {
            throw new IllegalArgumentException("DDIM eta must be in [0, 1], got " + eta);
        }
        this.config = config;
        this.eta = eta;
        this.alphasCumprod = NoiseSchedules.alphasCumprod(NoiseSchedules.betas(config));
        this.finalAlphaCumprod = config.setAlphaToOneOr(true) ? 1f : alphasCumprod[0];
        this.clipSample = config.clipSampleOr(true);
        this.spacing = config.timestepSpacingOr(SchedulerConfig.TimestepSpacing.LEADING);
    }

    @Override
    public void setTimesteps(int steps) {
        int n = config.numTrainTimesteps();
        if (steps < 1 || steps > n) {
            throw new IllegalArgumentException("DDIM steps must be in [1, " + n + "], got " + steps);
        }
        double[] t = NoiseSchedules.spacedTimesteps(spacing, n, steps, config.stepsOffset(), true);
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = (float) t[i];
            if (out[i] >= n) {
                throw new IllegalArgumentException("steps_offset " + config.stepsOffset() + " pushes timestep "
                        + (long) t[i] + " past num_train_timesteps " + n + "; use fewer steps or a smaller offset");
            }
        }
        this.timesteps = out;
        this.steps = steps;
    }

    @Override
    public float[] timesteps() {
        return prepared().clone();
    }

    @Override
    public NDArray step(NDArray modelOutput, int index, NDArray sample, Random rng) {
        if (eta > 0 && rng == null) {
            throw new IllegalArgumentException("DDIM with eta > 0 needs a random generator");
        }
        return step(modelOutput, index, sample, rng, null);
    }

    /** A step with the eta-noise given (B, C, h, w) instead of drawn, as diffusers' {@code variance_noise}. */
    public NDArray stepWithNoise(NDArray modelOutput, int index, NDArray sample, NDArray varianceNoise) {
        return step(modelOutput, index, sample, null, varianceNoise);
    }

    private NDArray step(NDArray modelOutput, int index, NDArray sample, Random rng, NDArray varianceNoise) {
        float[] ts = prepared();
        NoiseSchedules.checkIndex(index, ts.length);
        int t = (int) ts[index];
        int prev = t - config.numTrainTimesteps() / steps;
        float a = alphasCumprod[t];
        float aPrev = prev >= 0 ? alphasCumprod[prev] : finalAlphaCumprod;
        float b = 1f - a;
        float sa = sqrt(a);
        float sb = sqrt(b);
        float variance = ((1f - aPrev) / b) * (1f - a / aPrev);
        float std = eta * sqrt(variance);
        float dirCoef = sqrt(Math.max(0f, 1f - aPrev - std * std)); // eta = 1 can round below 0
        float range = (float) config.clipSampleRange();
        return Scoped.run(sample, scope -> {
            NDArray x0;
            NDArray eps;
            switch (config.predictionType()) {
                case EPSILON -> {
                    x0 = sample.sub(modelOutput.mul(sb)).divi(sa);
                    eps = modelOutput;
                }
                case SAMPLE -> {
                    x0 = modelOutput;
                    eps = sample.sub(x0.mul(sa)).divi(sb);
                }
                case V_PREDICTION -> {
                    x0 = sample.mul(sa).subi(modelOutput.mul(sb));
                    eps = modelOutput.mul(sa).addi(sample.mul(sb));
                }
                default -> throw new IllegalStateException();
            }
            if (clipSample) {
                x0 = x0.clip(-range, range);
            }
            NDArray prevSample = x0.mul(sqrt(aPrev)).addi(eps.mul(dirCoef));
            if (eta > 0) {
                NDArray noise = varianceNoise != null ? varianceNoise : Randn.randn(scope, sample.getShape(), rng);
                prevSample = prevSample.addi(noise.mul(std));
            }
            return prevSample;
        }, modelOutput, varianceNoise);
    }

    @Override
    public NDArray addNoise(NDArray original, NDArray noise, int index) {
        float[] ts = prepared();
        NoiseSchedules.checkIndex(index, ts.length);
        float a = alphasCumprod[(int) ts[index]];
        float sa = sqrt(a);
        float sb = sqrt(1f - a);
        return Scoped.run(original, scope -> original.mul(sa).addi(noise.mul(sb)), noise);
    }

    private float[] prepared() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps(steps) before using the scheduler");
        }
        return timesteps;
    }

    private static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }
}
