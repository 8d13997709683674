package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Random;

/**
 * DPM-Solver++ multistep (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of
 * Diffusion Probabilistic Models", Algorithm 2; "2M" for solver_order 2) in data-prediction form,
 * as diffusers' DPMSolverMultistepScheduler with algorithm_type dpmsolver++: midpoint or Heun
 * second-order updates, first order on the first step and (lower_order_final / zero final sigma)
 * on the last; optional Karras sigmas (rho 7) with rounded timesteps.
 * <p>Stateful: keeps the previous step's x0 estimate, so steps must run in order from any start
 * index ({@link #setTimesteps} resets the history). The kept array is attached to the sample's manager.
 */
public final class DpmSolverMultistepScheduler implements Scheduler {
    private final SchedulerConfig config;
    private final float[] alphasCumprod;   // (numTrainTimesteps) float32
    private final float[] trainSigmas;     // (numTrainTimesteps) float32
    private final float[] logTrainSigmas;  // (numTrainTimesteps)
    private final SchedulerConfig.TimestepSpacing spacing;
    private final boolean lowerOrderFinal;
    private float[] timesteps;             // (steps) descending, integer-valued
    private float[] sigmas;                // (steps + 1)
    private NDArray previousX0;            // (B, C, h, w) x0 estimate of step lastIndex, or null
    private int lastIndex = -1;
    private int lowerOrderNums;

    public DpmSolverMultistepScheduler(SchedulerConfig config) {
        this.config = config;
        this.alphasCumprod = NoiseSchedules.alphasCumprod(NoiseSchedules.betas(config));
        if (config.rescaleBetasZeroSnr()) {
            alphasCumprod[alphasCumprod.length - 1] = 0x1p-24f;
        }
        this.trainSigmas = NoiseSchedules.trainingSigmas(alphasCumprod);
        this.logTrainSigmas = NoiseSchedules.logs(trainSigmas);
        this.spacing = config.timestepSpacingOr(SchedulerConfig.TimestepSpacing.LINSPACE);
        this.lowerOrderFinal = config.lowerOrderFinalOr(true);
    }

    @Override
    public void setTimesteps(int steps) {
        int n = config.numTrainTimesteps();
        if (steps < 1 || steps > n) {
            throw new IllegalArgumentException("DPM-Solver++ steps must be in [1, " + n + "], got " + steps);
        }
        int last = n - clippedIndex();
        double[] t = switch (spacing) {
            case LINSPACE -> {
                double[] lin = NoiseSchedules.linspace(0, last - 1, steps + 1);
                double[] out = new double[steps];
                for (int i = 0; i < steps; i++) {
                    out[i] = Math.rint(lin[steps - i]);
                }
                yield out;
            }
            case LEADING -> {
                int ratio = last / (steps + 1);
                double[] out = new double[steps];
                for (int i = 0; i < steps; i++) {
                    out[i] = (double) (steps - i) * ratio + config.stepsOffset();
                }
                yield out;
            }
            case TRAILING -> {
                double[] all = NoiseSchedules.arange(last, 0, -((double) n / steps));
                double[] out = new double[Math.min(all.length, steps)];
                for (int i = 0; i < out.length; i++) {
                    out[i] = Math.rint(all[i]) - 1;
                }
                yield out;
            }
        };
        double[] sig;
        if (config.useKarrasSigmas()) {
            // diffusers' DPM ignores sigma_min/sigma_max: the Karras range is the training schedule's
            sig = NoiseSchedules.karras(trainSigmas[0], trainSigmas[n - 1], steps);
            t = new double[steps];
            for (int i = 0; i < steps; i++) {
                double tt = NoiseSchedules.sigmaToT(sig[i], logTrainSigmas);
                t[i] = config.betaSchedule() == SchedulerConfig.BetaSchedule.SQUAREDCOS_CAP_V2 ? tt : Math.rint(tt);
            }
        } else {
            sig = new double[t.length];
            for (int i = 0; i < t.length; i++) {
                sig[i] = NoiseSchedules.interp(t[i], trainSigmas);
            }
        }
        float[] ts = new float[t.length];
        float[] s = new float[t.length + 1];
        for (int i = 0; i < t.length; i++) {
            ts[i] = (float) (long) t[i];
            s[i] = (float) sig[i];
        }
        s[t.length] = config.finalSigmasType() == SchedulerConfig.FinalSigmas.SIGMA_MIN ? trainSigmas[0] : 0f;
        this.timesteps = ts;
        this.sigmas = s;
        resetHistory();
    }

    /** Count of trailing training steps whose log-SNR is below lambda_min_clipped (torch.searchsorted). */
    private int clippedIndex() {
        double clip = config.lambdaMinClipped();
        int n = alphasCumprod.length;
        int count = 0;
        for (int i = n - 1; i >= 0; i--) { // flipped lambda_t is ascending
            float a = alphasCumprod[i];
            float lambda = (float) Math.log(Math.sqrt(a)) - (float) Math.log(Math.sqrt(1f - a));
            if (lambda < clip) {
                count++;
            } else {
                break;
            }
        }
        return count;
    }

    private void resetHistory() {
        if (previousX0 != null && !previousX0.isReleased()) {
            previousX0.close();
        }
        previousX0 = null;
        lastIndex = -1;
        lowerOrderNums = 0;
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
    public NDArray step(NDArray modelOutput, int index, NDArray sample, Random rng) {
        int steps = prepared().length;
        NoiseSchedules.checkIndex(index, steps);
        if (lastIndex >= 0 && index != lastIndex + 1) {
            throw new IllegalStateException("DPM-Solver++ is multistep: step " + index + " after step " + lastIndex
                    + "; run steps in order, or call setTimesteps again to restart");
        }
        boolean finalFirstOrder = index == steps - 1 && (config.eulerAtFinal()
                || (lowerOrderFinal && steps < 15)
                || config.finalSigmasType() == SchedulerConfig.FinalSigmas.ZERO);
        boolean firstOrder = config.solverOrder() == 1 || lowerOrderNums < 1 || finalFirstOrder;

        double sigmaS0 = sigmas[index];
        double sigmaNext = sigmas[index + 1];
        float[] at = alphaSigma(sigmaNext);
        float[] as0 = alphaSigma(sigmaS0);
        double h = lambda(at) - lambda(as0);
        float expm1 = (float) (Math.exp(-h) - 1.0);      // e^{-h} - 1
        float sampleCoef = at[1] / as0[1];               // sigma_t / sigma_s0
        float d0Coef = at[0] * expm1;                    // alpha_t (e^{-h} - 1)
        float d1Coef;
        float r0Inv;
        if (firstOrder) {
            d1Coef = 0;
            r0Inv = 0;
        } else {
            float[] as1 = alphaSigma(sigmas[index - 1]);
            double h0 = lambda(as0) - lambda(as1);
            r0Inv = (float) (1.0 / (h0 / h));
            // h = 0 (a repeated sigma, e.g. Karras with a sigma_min final sigma) makes the step the identity
            d1Coef = config.solverType() == SchedulerConfig.SolverType.MIDPOINT ? -0.5f * d0Coef
                    : h == 0 ? 0f : at[0] * (float) ((Math.exp(-h) - 1.0) / h + 1.0);
        }
        NDArray previous = previousX0;
        NDManager home = sample.getManager();
        NDArray[] keep = new NDArray[1];
        NDArray result = Scoped.run(sample, scope -> {
            NDArray x0 = toX0(modelOutput, sample, as0);
            // x_t = (σ_t/σ_s0) x - α_t (e^{-h} - 1) D0 [+ d1Coef D1], D0 = x0, D1 = (x0 - x0_prev) / r0
            NDArray x = sample.mul(sampleCoef).subi(x0.mul(d0Coef));
            if (!firstOrder) {
                x = x.addi(x0.sub(previous).muli(r0Inv * d1Coef));
            }
            keep[0] = x0 == modelOutput ? x0.duplicate() : x0;
            keep[0].attach(home);
            return x;
        }, modelOutput, previous);
        if (previous != null && !previous.isReleased()) {
            previous.close();
        }
        previousX0 = keep[0];
        lastIndex = index;
        lowerOrderNums = Math.min(lowerOrderNums + 1, config.solverOrder());
        return result;
    }

    /** The data prediction x0 from the model output at the current sigma (convert_model_output). */
    private NDArray toX0(NDArray modelOutput, NDArray sample, float[] alphaSigma) {
        float alpha = alphaSigma[0];
        float sigma = alphaSigma[1];
        return switch (config.predictionType()) {
            case EPSILON -> sample.sub(modelOutput.mul(sigma)).divi(alpha);
            case SAMPLE -> modelOutput;
            case V_PREDICTION -> sample.mul(alpha).subi(modelOutput.mul(sigma));
        };
    }

    /** (alpha_t, sigma_t) of the VP process at Karras sigma s: alpha = 1/sqrt(s²+1), sigma = s·alpha. */
    private static float[] alphaSigma(double s) {
        float sf = (float) s;
        float alpha = 1f / (float) Math.sqrt(sf * sf + 1f);
        return new float[] {alpha, sf * alpha};
    }

    /** Half log-SNR lambda = log(alpha) - log(sigma); +inf at sigma 0. */
    private static double lambda(float[] alphaSigma) {
        return (float) Math.log(alphaSigma[0]) - (float) Math.log(alphaSigma[1]);
    }

    @Override
    public NDArray addNoise(NDArray original, NDArray noise, int index) {
        NoiseSchedules.checkIndex(index, prepared().length);
        float[] as = alphaSigma(sigmas[index]);
        return Scoped.run(original, scope -> original.mul(as[0]).addi(noise.mul(as[1])), noise);
    }

    private float[] prepared() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps(steps) before using the scheduler");
        }
        return timesteps;
    }
}
