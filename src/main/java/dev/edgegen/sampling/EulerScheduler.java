package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import java.util.Random;

/**
 * Euler's method on the probability-flow ODE in sigma space (Karras et al. 2022, "Elucidating the
 * Design Space of Diffusion-Based Generative Models", Algorithm 2 without churn), as diffusers'
 * EulerDiscreteScheduler: sigmas interpolated from the training schedule at the spaced timesteps,
 * or Karras sigmas (rho 7) with fractional timesteps, then a final zero (or sigma_min) sigma.
 */
public final class EulerScheduler extends SigmaSpaceScheduler {
    public EulerScheduler(SchedulerConfig config) {
        super(config, "Euler");
    }

    @Override
    protected boolean karrasAndFinalSigma() { return true; }

    @Override
    public NDArray step(NDArray modelOutput, int index, NDArray sample, Random rng) {
        NoiseSchedules.checkIndex(index, prepared().length);
        float sigma = sigmas[index];
        float dt = sigmas[index + 1] - sigma;
        return Scoped.run(sample, scope -> {
            NDArray x0 = denoised(modelOutput, sample, sigma);
            NDArray derivative = sample.sub(x0).divi(sigma);
            return sample.add(derivative.muli(dt));
        }, modelOutput);
    }
}
