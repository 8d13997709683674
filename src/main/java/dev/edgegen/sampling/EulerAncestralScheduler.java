package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Randn;
import java.util.Random;

/**
 * Ancestral Euler sampling (k-diffusion's {@code sample_euler_ancestral}, as diffusers'
 * EulerAncestralDiscreteScheduler): each step goes down to sigma_down with Euler and adds fresh
 * noise of std sigma_up, where sigma_up² + sigma_down² = sigma_next². Stochastic: needs an rng.
 */
public final class EulerAncestralScheduler implements Scheduler {
    private final SchedulerConfig config;
    private final float[] trainSigmas;  // (numTrainTimesteps) float32
    private final SchedulerConfig.TimestepSpacing spacing;
    private float[] timesteps;          // (steps) descending
    private float[] sigmas;             // (steps + 1), last 0
    private float initNoiseSigma;

    public EulerAncestralScheduler(SchedulerConfig config) {
        if (config.predictionType() == SchedulerConfig.PredictionType.SAMPLE) {
            throw new IllegalArgumentException("euler_a supports prediction_type epsilon and v_prediction, not sample"
                    + " (as diffusers); use euler, ddim or dpmpp_2m for sample-predicting models");
        }
        this.config = config;
        float[] alphasCumprod = NoiseSchedules.alphasCumprod(NoiseSchedules.betas(config));
        if (config.rescaleBetasZeroSnr()) {
            alphasCumprod[alphasCumprod.length - 1] = 0x1p-24f;
        }
        this.trainSigmas = NoiseSchedules.trainingSigmas(alphasCumprod);
        this.spacing = config.timestepSpacingOr(SchedulerConfig.TimestepSpacing.LINSPACE);
    }

    @Override
    public void setTimesteps(int steps) {
        int n = config.numTrainTimesteps();
        if (steps < 1 || steps > n) {
            throw new IllegalArgumentException("euler_a steps must be in [1, " + n + "], got " + steps);
        }
        double[] t = NoiseSchedules.spacedTimesteps(spacing, n, steps, config.stepsOffset(), false);
        float[] ts = new float[t.length];
        float[] s = new float[t.length + 1];
        float max = 0;
        for (int i = 0; i < t.length; i++) {
            ts[i] = (float) t[i];
            s[i] = (float) NoiseSchedules.interp(ts[i], trainSigmas);
            max = Math.max(max, s[i]);
        }
        this.timesteps = ts;
        this.sigmas = s;
        this.initNoiseSigma = spacing == SchedulerConfig.TimestepSpacing.LEADING
                ? (float) Math.sqrt(max * max + 1f) : max;
    }

    @Override
    public float[] timesteps() {
        return prepared().clone();
    }

    /** The sigmas of the prepared steps plus the final zero, (steps + 1). */
    public float[] sigmas() {
        prepared();
        return sigmas.clone();
    }

    @Override
    public float initNoiseSigma() {
        prepared();
        return initNoiseSigma;
    }

    @Override
    public NDArray scaleModelInput(NDArray sample, int index) {
        NoiseSchedules.checkIndex(index, prepared().length);
        float s = sigmas[index];
        return sample.div((float) Math.sqrt(s * s + 1f));
    }

    @Override
    public NDArray step(NDArray modelOutput, int index, NDArray sample, Random rng) {
        if (rng == null) {
            throw new IllegalArgumentException("euler_a is stochastic and needs a random generator");
        }
        return step(modelOutput, index, sample, null, rng);
    }

    /** A step with its noise (B, C, h, w) given instead of drawn. */
    public NDArray stepWithNoise(NDArray modelOutput, int index, NDArray sample, NDArray noise) {
        if (noise == null) {
            throw new IllegalArgumentException("noise must not be null");
        }
        return step(modelOutput, index, sample, noise, null);
    }

    private NDArray step(NDArray modelOutput, int index, NDArray sample, NDArray noise, Random rng) {
        NoiseSchedules.checkIndex(index, prepared().length);
        float from = sigmas[index];
        float to = sigmas[index + 1];
        float up = sigmaUp(from, to);
        float down = (float) Math.sqrt(to * to - up * up);
        float dt = down - from;
        return Scoped.run(sample, scope -> {
            NDArray x0 = EulerScheduler.denoised(config.predictionType(), modelOutput, sample, from);
            NDArray derivative = sample.sub(x0).divi(from);
            NDArray prev = sample.add(derivative.muli(dt));
            NDArray n = noise != null ? noise : Randn.randn(scope, sample.getShape(), rng);
            return prev.addi(n.mul(up));
        }, modelOutput, noise);
    }

    /** Std of the noise added by the step from {@code from} to {@code to}. */
    static float sigmaUp(float from, float to) {
        return (float) Math.sqrt(to * to * (from * from - to * to) / (from * from));
    }

    @Override
    public NDArray addNoise(NDArray original, NDArray noise, int index) {
        NoiseSchedules.checkIndex(index, prepared().length);
        float sigma = sigmas[index];
        return Scoped.run(original, scope -> original.add(noise.mul(sigma)), noise);
    }

    private float[] prepared() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps(steps) before using the scheduler");
        }
        return timesteps;
    }
}
