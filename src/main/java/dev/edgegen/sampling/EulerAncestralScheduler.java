package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Randn;
import java.util.Random;

/**
 * Ancestral Euler sampling (k-diffusion's {@code sample_euler_ancestral}, as diffusers'
 * EulerAncestralDiscreteScheduler): each step goes down to sigma_down with Euler and adds fresh
 * noise of std sigma_up, where sigma_up² + sigma_down² = sigma_next². Stochastic: needs an rng.
 */
public final class EulerAncestralScheduler extends SigmaSpaceScheduler {
    public EulerAncestralScheduler(SchedulerConfig config) {
        super(checked(config), "euler_a");
    }

    private static SchedulerConfig checked(SchedulerConfig config) {
        if (config.predictionType() == SchedulerConfig.PredictionType.SAMPLE) {
            throw new IllegalArgumentException("euler_a supports prediction_type epsilon and v_prediction, not sample"
                    + " (as diffusers); use euler, ddim or dpmpp_2m for sample-predicting models");
        }
        return config;
    }

    @Override
    protected boolean karrasAndFinalSigma() { return false; }

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
            NDArray x0 = denoised(modelOutput, sample, from);
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
}
