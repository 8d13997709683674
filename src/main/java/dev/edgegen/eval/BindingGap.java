package dev.edgegen.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.data.Sample;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.tensor.Randn;
import dev.edgegen.train.NoiseSchedule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * How much a model's denoising depends on which colour goes with which shape, without sampling an image: for
 * two-object scenes, the UNet's ε-MSE from the same noisy latent with the scene's canonical prompt and with the
 * prompt whose colour words are exchanged ({@link SyntheticScenes#swapColours}) or that binds them wrongly in another
 * way ({@link SyntheticScenes.Rebinding}), at fixed timesteps. The gap is (MSE_wrong − MSE_true) / MSE_true,
 * averaged; the accuracy is how often the true prompt denoises better, the model used as a classifier of the two
 * prompts (Li et al. 2023, "Your diffusion model is secretly a zero-shot classifier"). On EdgeGen's models a larger
 * swap gap went with fewer colour swaps in sampled images, until a model was trained on the gap itself
 * (docs/training.md, session 26).
 */
public final class BindingGap {
    private BindingGap() {}

    /** Timesteps (of the 1,000-step training schedule) the gap is measured at. */
    public static final int[] TIMESTEPS = {100, 300, 500, 700, 900};

    /** Mean relative gap and accuracy at each of {@link #TIMESTEPS}, over {@code scenes} scenes. */
    public record Result(String split, String negative, int scenes, int[] timesteps, double[] gap, double[] accuracy) {}

    /**
     * Scenes 0, 1, … of {@code split} with two objects (those without a {@code negative} skipped) until {@code count}
     * are measured, {@code batch} at a time; noise from {@code seed}; a leak copies onto the second object in even
     * scenes and onto the first in odd ones. {@code progress} gets the number measured so far.
     */
    public static Result measure(StableDiffusion sd, SyntheticScenes.Split split, SyntheticScenes.Rebinding negative, int count,
                                 int batch, long seed, IntConsumer progress) {
        if (count < 1 || batch < 1) throw new IllegalArgumentException("count and batch must be >= 1, got " + count + ", " + batch);
        NoiseSchedule schedule = NoiseSchedule.of(sd.scheduler);
        if (schedule.steps() != 1000) throw new IllegalArgumentException("the binding gap needs a 1,000-step training schedule, got " + schedule.steps());
        double[] gap = new double[TIMESTEPS.length], wins = new double[TIMESTEPS.length];
        Random rng = new Random(seed);
        int measured = 0;
        long index = 0;
        while (measured < count) {
            List<float[]> pixels = new ArrayList<>();
            List<String> truth = new ArrayList<>(), wrong = new ArrayList<>();
            while (pixels.size() < Math.min(batch, count - measured)) {
                long i = index++;
                Sample s = SyntheticScenes.sample(split, i, 2, new Random(i));
                String prompt = SyntheticScenes.prompt(s.scene());
                Optional<String> w = SyntheticScenes.rebind(prompt, s.scene(), negative, i % 2 == 0);
                if (w.isEmpty()) continue;
                pixels.add(s.pixels());
                truth.add(prompt);
                wrong.add(w.get());
            }
            int b = pixels.size();
            try (NDManager scope = sd.manager().newSubManager()) {
                int px = pixels.get(0).length;
                float[] all = new float[b * px];
                for (int i = 0; i < b; i++) System.arraycopy(pixels.get(i), 0, all, i * px, px);
                NDArray images = scope.create(all, new Shape(b, 3, SyntheticScenes.SIZE, SyntheticScenes.SIZE));
                NDArray latents = sd.vae.toDiffusionLatents(sd.vae.encode(images).mean());             // (B, C, h, w)
                NDArray ctxTrue = sd.textEncoder.encode(truth, scope);                                  // (B, L, D)
                NDArray ctxWrong = sd.textEncoder.encode(wrong, scope);
                for (int q = 0; q < TIMESTEPS.length; q++) {
                    int[] t = new int[b];
                    float[] tf = new float[b];
                    Arrays.fill(t, TIMESTEPS[q]);
                    Arrays.fill(tf, TIMESTEPS[q]);
                    NDArray noise = Randn.randn(scope, latents.getShape(), rng);
                    NDArray noisy = schedule.addNoise(latents, noise, t);
                    NDArray steps = scope.create(tf, new Shape(b));
                    float[] mseTrue = mse(sd.unet.forward(noisy, steps, ctxTrue), noise, b);
                    float[] mseWrong = mse(sd.unet.forward(noisy, steps, ctxWrong), noise, b);
                    for (int i = 0; i < b; i++) {
                        gap[q] += (mseWrong[i] - mseTrue[i]) / mseTrue[i];
                        if (mseTrue[i] < mseWrong[i]) wins[q]++;
                    }
                }
            }
            measured += b;
            progress.accept(measured);
        }
        for (int q = 0; q < TIMESTEPS.length; q++) {
            gap[q] /= measured;
            wins[q] /= measured;
        }
        return new Result(split.name(), negative.name(), measured, TIMESTEPS.clone(), gap, wins);
    }

    /** Per-sample mean squared error of a prediction (B, C, h, w) against ε. */
    private static float[] mse(NDArray prediction, NDArray noise, int b) {
        return prediction.sub(noise).square().reshape(b, -1).mean(new int[] {1}).toFloatArray();
    }
}
