package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;

/**
 * What the samplers in sigma space (Euler, Euler ancestral; k-diffusion's parameterisation x = x0 + σ·ε)
 * share: training sigmas σ_t = √((1 − ᾱ_t) / ᾱ_t), the spaced timesteps and their interpolated sigmas (or
 * Karras sigmas) plus a final sigma, input scaling by 1 / √(σ² + 1), and noising by x0 + σ·ε.
 */
abstract class SigmaSpaceScheduler implements Scheduler {
    protected final SchedulerConfig config;
    protected final float[] alphasCumprod;   // (numTrainTimesteps) float32
    private final float[] trainSigmas;       // (numTrainTimesteps), ascending with t
    private final float[] logTrainSigmas;    // (numTrainTimesteps)
    private final SchedulerConfig.TimestepSpacing spacing;
    private final String name;
    private float[] timesteps;               // (steps) descending, fractional with Karras sigmas
    protected float[] sigmas;                // (steps + 1)
    private float initNoiseSigma;

    protected SigmaSpaceScheduler(SchedulerConfig config, String name) {
        this.config = config;
        this.name = name;
        this.alphasCumprod = NoiseSchedules.alphasCumprod(NoiseSchedules.betas(config));
        if (config.rescaleBetasZeroSnr()) {
            alphasCumprod[alphasCumprod.length - 1] = 0x1p-24f; // keeps the last sigma finite, as diffusers
        }
        this.trainSigmas = NoiseSchedules.trainingSigmas(alphasCumprod);
        this.logTrainSigmas = NoiseSchedules.logs(trainSigmas);
        this.spacing = config.timestepSpacingOr(SchedulerConfig.TimestepSpacing.LINSPACE);
    }

    /** Whether this sampler honours use_karras_sigmas and final_sigmas_type (Euler does, Euler a does not). */
    protected abstract boolean karrasAndFinalSigma();

    @Override
    public void setTimesteps(int steps) {
        int n = config.numTrainTimesteps();
        if (steps < 1 || steps > n) {
            throw new IllegalArgumentException(name + " steps must be in [1, " + n + "], got " + steps);
        }
        double[] t = NoiseSchedules.spacedTimesteps(spacing, n, steps, config.stepsOffset(), false);
        float[] ts = new float[t.length];
        double[] sig = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            ts[i] = (float) t[i];
            sig[i] = NoiseSchedules.interp(ts[i], trainSigmas);
        }
        boolean extended = karrasAndFinalSigma();
        if (extended && config.useKarrasSigmas()) {
            double min = config.sigmaMin() != null ? config.sigmaMin() : sig[sig.length - 1];
            double max = config.sigmaMax() != null ? config.sigmaMax() : sig[0];
            sig = NoiseSchedules.karras(min, max, steps);
            ts = new float[steps];
            for (int i = 0; i < steps; i++) {
                ts[i] = (float) NoiseSchedules.sigmaToT(sig[i], logTrainSigmas);
            }
        }
        float[] s = new float[sig.length + 1];
        float max = 0;
        for (int i = 0; i < sig.length; i++) {
            s[i] = (float) sig[i];
            max = Math.max(max, s[i]);
        }
        s[sig.length] = extended && config.finalSigmasType() == SchedulerConfig.FinalSigmas.SIGMA_MIN
                ? (float) Math.sqrt((1f - alphasCumprod[0]) / alphasCumprod[0]) : 0f;
        max = Math.max(max, s[sig.length]);
        this.timesteps = ts;
        this.sigmas = s;
        this.initNoiseSigma = spacing == SchedulerConfig.TimestepSpacing.LEADING
                ? (float) Math.sqrt(max * max + 1f) : max;
    }

    @Override
    public float[] timesteps() {
        return prepared().clone();
    }

    /** The sigmas of the prepared steps plus the final one, (steps + 1). */
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
    public NDArray addNoise(NDArray original, NDArray noise, int index) {
        NoiseSchedules.checkIndex(index, prepared().length);
        float sigma = sigmas[index];
        return Scoped.run(original, scope -> original.add(noise.mul(sigma)), noise);
    }

    /** The model's estimate of the clean sample at noise level {@code sigma}. */
    protected final NDArray denoised(NDArray modelOutput, NDArray sample, float sigma) {
        return switch (config.predictionType()) {
            case EPSILON -> sample.sub(modelOutput.mul(sigma));
            case V_PREDICTION -> {
                float s2 = sigma * sigma + 1f;
                yield modelOutput.mul(-sigma / (float) Math.sqrt(s2)).addi(sample.div(s2));
            }
            case SAMPLE -> modelOutput;
        };
    }

    protected final float[] prepared() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps(steps) before using the scheduler");
        }
        return timesteps;
    }
}
