package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import java.util.Random;

/**
 * A diffusion sampler, with diffusers' semantics. The denoising loop lives in the pipeline:
 * <pre>
 *   s.setTimesteps(n);
 *   x = noise * s.initNoiseSigma();
 *   for (i = 0; i &lt; s.timesteps().length; i++) {
 *       eps = unet(s.scaleModelInput(x, i), s.timesteps()[i], ctx);
 *       x = s.step(eps, i, x, rng);
 *   }
 * </pre>
 * All arrays are (B, C, h, w) float32; results are attached to {@code sample}'s manager.
 */
public interface Scheduler {
    /** Prepares {@code steps} inference steps; must be called before anything else. */
    void setTimesteps(int steps);

    /** The model timesteps of the prepared steps, in denoising order (descending). */
    float[] timesteps();

    /** Std of the initial noise: 1 for DDIM-like samplers; Euler-like ones override it (about sigma_max). */
    default float initNoiseSigma() {
        return 1f;
    }

    /** The UNet's input at step {@code index}: the sample itself, unless (Euler-like) the sampler rescales it. */
    default NDArray scaleModelInput(NDArray sample, int index) {
        return sample;
    }

    /** One denoising step from step {@code index}; {@code rng} feeds ancestral/stochastic samplers. */
    NDArray step(NDArray modelOutput, int index, NDArray sample, Random rng);

    /** Forward diffusion of clean {@code original} to the noise level of step {@code index} (img2img). */
    NDArray addNoise(NDArray original, NDArray noise, int index);

    /**
     * The step img2img starts from at {@code strength} in (0, 1], as diffusers' img2img pipelines do:
     * the first {@code steps - int(steps * strength)} steps are skipped, and the init latents are noised
     * with {@code addNoise(latents, noise, startIndex(strength))} before stepping from there.
     */
    default int startIndex(double strength) {
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        int steps = timesteps().length;
        int kept = Math.min((int) (steps * strength), steps);
        if (kept == 0) {
            throw new IllegalArgumentException("strength " + strength + " keeps no step of " + steps
                    + ": raise the strength to at least " + (1.0 / steps) + " or use more steps");
        }
        return steps - kept;
    }
}
