package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Randn;
import java.util.Random;

/**
 * Latent Consistency Model multistep sampling (Luo et al. 2023, "Latent Consistency Models",
 * Algorithm 3), as diffusers' LCMScheduler: timesteps are a subset of the distillation schedule
 * (original_inference_steps, every {@code N / original} training steps); each step maps to the
 * consistency-function output c_skip·x + c_out·x0 and, except on the last step, re-noises it to the
 * next timestep with fresh noise. Stochastic for steps > 1: needs an rng.
 */
public final class LcmScheduler implements Scheduler {
    private static final float SIGMA_DATA_SQ = 0.25f; // sigma_data = 0.5

    private final SchedulerConfig config;
    private final float[] alphasCumprod;  // (numTrainTimesteps) float32
    private final boolean clipSample;
    private float[] timesteps;            // (steps) descending, integer-valued

    public LcmScheduler(SchedulerConfig config) {
        this.config = config;
        this.alphasCumprod = NoiseSchedules.alphasCumprod(NoiseSchedules.betas(config));
        this.clipSample = config.clipSampleOr(false);
    }

    @Override
    public void setTimesteps(int steps) {
        int original = config.originalInferenceSteps();
        if (steps < 1 || steps > original) {
            throw new IllegalArgumentException("LCM steps must be in [1, original_inference_steps = " + original
                    + "], got " + steps);
        }
        int k = config.numTrainTimesteps() / original;
        double stride = (double) original / steps; // np.linspace(0, original, steps, endpoint=False)
        float[] ts = new float[steps];
        for (int i = 0; i < steps; i++) {
            int j = (int) Math.floor(i * stride);  // index into the descending distillation schedule
            ts[i] = (float) ((original - j) * k - 1);
        }
        this.timesteps = ts;
    }

    @Override
    public float[] timesteps() {
        return prepared().clone();
    }

    @Override
    public NDArray step(NDArray modelOutput, int index, NDArray sample, Random rng) {
        boolean last = index == prepared().length - 1;
        if (!last && rng == null) {
            throw new IllegalArgumentException("LCM re-noises between steps and needs a random generator");
        }
        return step(modelOutput, index, sample, null, rng);
    }

    /** A step with its re-noising noise (B, C, h, w) given instead of drawn (unused on the last step). */
    public NDArray stepWithNoise(NDArray modelOutput, int index, NDArray sample, NDArray noise) {
        if (noise == null) {
            throw new IllegalArgumentException("noise must not be null");
        }
        return step(modelOutput, index, sample, noise, null);
    }

    private NDArray step(NDArray modelOutput, int index, NDArray sample, NDArray noise, Random rng) {
        float[] ts = prepared();
        NoiseSchedules.checkIndex(index, ts.length);
        int t = (int) ts[index];
        int prevT = index + 1 < ts.length ? (int) ts[index + 1] : t;
        float a = alphasCumprod[t];
        float aPrev = alphasCumprod[prevT]; // the last step's prev is itself, so set_alpha_to_one never applies
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1f - a);
        float scaled = t * (float) config.timestepScaling();
        float cSkip = SIGMA_DATA_SQ / (scaled * scaled + SIGMA_DATA_SQ);
        float cOut = scaled / (float) Math.sqrt(scaled * scaled + SIGMA_DATA_SQ);
        float range = (float) config.clipSampleRange();
        boolean last = index == ts.length - 1;
        return Scoped.run(sample, scope -> {
            NDArray x0 = switch (config.predictionType()) {
                case EPSILON -> sample.sub(modelOutput.mul(sb)).divi(sa);
                case SAMPLE -> modelOutput;
                case V_PREDICTION -> sample.mul(sa).subi(modelOutput.mul(sb));
            };
            if (clipSample) {
                x0 = x0.clip(-range, range);
            }
            NDArray denoised = x0.mul(cOut).addi(sample.mul(cSkip));
            if (last) {
                return denoised;
            }
            NDArray n = noise != null ? noise : Randn.randn(scope, sample.getShape(), rng);
            return denoised.muli((float) Math.sqrt(aPrev)).addi(n.mul((float) Math.sqrt(1f - aPrev)));
        }, modelOutput, noise);
    }

    @Override
    public NDArray addNoise(NDArray original, NDArray noise, int index) {
        float[] ts = prepared();
        NoiseSchedules.checkIndex(index, ts.length);
        float a = alphasCumprod[(int) ts[index]];
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1f - a);
        return Scoped.run(original, scope -> original.mul(sa).addi(noise.mul(sb)), noise);
    }

    private float[] prepared() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps(steps) before using the scheduler");
        }
        return timesteps;
    }
}
