package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.data.Batch;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.nn.AttentionMaps;
import dev.edgegen.tensor.Randn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Function;

/**
 * Text-conditioned latent diffusion training (Rombach et al. 2022): encode images to latents with
 * the frozen autoencoder, draw t ~ U{0…T−1} and ε ~ N(0, I), and regress the UNet's output on ε
 * (epsilon) or on v (v-prediction, Salimans &amp; Ho 2022) with MSE. Captions are replaced by the
 * empty caption with probability {@code cfgDropout} so the same model learns the unconditional
 * prediction classifier-free guidance needs (Ho &amp; Salimans 2022). With {@code minSnrGamma} &gt; 0 each
 * sample's MSE is weighted by Min-SNR-γ (Hang et al. 2023): min(SNR, γ) / SNR for epsilon, min(SNR, γ) / (SNR + 1)
 * for v, SNR = ᾱ / (1 − ᾱ), so the nearly clean timesteps stop dominating the gradient. Examples come from a data
 * loader and are encoded every batch, or from a {@link LatentPool} encoded once; {@link #withAttentionLoss} adds an
 * {@link AttentionLoss} on the UNet's cross-attention; {@link #withObjectWeight} weights the MSE towards synthetic
 * objects ({@link ObjectWeights}); {@link #withBindingLoss} asks that a caption binding the objects' colours and
 * shapes wrongly fit the noisy latent worse than the true one.
 */
public final class DiffusionTask implements Trainer.Task {
    /** The trained network: noisy latents (B, C, h, w), timesteps (B) float32, context (B, L, D) → (B, C, h, w). */
    public interface Denoiser {
        NDArray predict(NDArray noisyLatents, NDArray timesteps, NDArray context);
    }

    /** Frozen image → latent map: images (B, 3, H, W) in [-1, 1] → latents (B, C, h, w), already scaled; may sample with {@code rng}. */
    public interface LatentEncoder {
        NDArray encode(NDArray images, Random rng);
    }

    /** Frozen text side: captions (B) → context (B, L, D) in the manager given. */
    public interface ContextEncoder {
        NDArray encode(List<String> captions, NDManager manager);
    }

    public enum Prediction { EPSILON, V_PREDICTION }

    private final Denoiser denoiser;
    private final LatentEncoder latents;
    private final ContextEncoder text;
    private final DataLoader loader;
    private final NoiseSchedule schedule;
    private final Prediction prediction;
    private final double cfgDropout;
    private final double minSnrGamma;
    private final LatentPool pool;
    private AttentionLoss attentionLoss;
    private double attentionWeight;
    private double objectWeight;
    private int objectWeightMaxT;                                   // the weight applies at timesteps t < this
    private TrainConfig.Binding binding = new TrainConfig.Binding(0, 0, 0, 1, 1, 0, List.of(SyntheticScenes.Rebinding.SWAP));
    private final DoubleAdder attentionSum = new DoubleAdder();     // the attention term of the steps since takeTermSums
    private final DoubleAdder bindingSum = new DoubleAdder();       // the binding term, likewise

    public DiffusionTask(Denoiser denoiser, LatentEncoder latents, ContextEncoder text, DataLoader loader,
                         NoiseSchedule schedule, Prediction prediction, double cfgDropout) {
        this(denoiser, latents, text, loader, schedule, prediction, cfgDropout, 0);
    }

    public DiffusionTask(Denoiser denoiser, LatentEncoder latents, ContextEncoder text, DataLoader loader,
                         NoiseSchedule schedule, Prediction prediction, double cfgDropout, double minSnrGamma) {
        this(denoiser, latents, text, loader, null, schedule, prediction, cfgDropout, minSnrGamma);
    }

    /**
     * {@code pool} non-null: the examples come from it, already encoded, and {@code latents} and {@code loader} are not
     * used (may be null); otherwise each batch is drawn from {@code loader} and encoded with {@code latents}.
     */
    public DiffusionTask(Denoiser denoiser, LatentEncoder latents, ContextEncoder text, DataLoader loader, LatentPool pool,
                         NoiseSchedule schedule, Prediction prediction, double cfgDropout, double minSnrGamma) {
        if (!(minSnrGamma >= 0)) throw new IllegalArgumentException("min-SNR gamma must be >= 0 (0 = off), got " + minSnrGamma);
        this.minSnrGamma = minSnrGamma;
        if (prediction == Prediction.EPSILON && schedule != null && schedule.zeroTerminalSnr()) {
            throw new IllegalArgumentException("a zero-terminal-SNR schedule needs v-prediction: at t = T-1 the input is the noise itself");
        }
        if (cfgDropout < 0 || cfgDropout >= 1) throw new IllegalArgumentException("cfg dropout must be in [0, 1), got " + cfgDropout);
        this.denoiser = denoiser;
        this.latents = latents;
        this.text = text;
        this.loader = loader;
        this.schedule = schedule;
        this.prediction = prediction;
        this.cfgDropout = cfgDropout;
        this.pool = pool;
    }

    /**
     * Adds {@code weight} · {@code loss} (cross-attention of object words on their objects) to the loss of every slice
     * with synthetic scenes; weight 0 turns it off. Call before training.
     */
    public DiffusionTask withAttentionLoss(AttentionLoss loss, double weight) {
        if (!(weight >= 0)) throw new IllegalArgumentException("attention loss weight must be >= 0, got " + weight);
        this.attentionLoss = weight > 0 ? loss : null;
        this.attentionWeight = weight;
        return this;
    }

    /**
     * Weights the denoising loss inside and next to synthetic objects 1 + {@code k} times the rest of the latent
     * ({@link ObjectWeights}); 0 turns it off. Call before training.
     */
    public DiffusionTask withObjectWeight(double k) {
        return withObjectWeight(k, Integer.MAX_VALUE);
    }

    /**
     * As {@link #withObjectWeight(double)}, but only for samples drawn at a timestep below {@code maxT}; the others keep
     * weight 1. At low noise the noisy latent shows where the objects are, so a weight that depends on them biases the
     * model little; at high noise, where the layout is decided, it pulls towards drawing objects ({@link ObjectWeights}).
     */
    public DiffusionTask withObjectWeight(double k, int maxT) {
        if (!(k >= 0)) throw new IllegalArgumentException("object weight must be >= 0, got " + k);
        if (maxT < 1) throw new IllegalArgumentException("object weight max timestep must be >= 1, got " + maxT);
        this.objectWeight = k;
        this.objectWeightMaxT = maxT;
        return this;
    }

    /**
     * Adds β · the binding hinge from step {@code startStep} on: for up to {@code samples} samples of a step (in
     * proportion per worker) that show two synthetic objects of different colours and shapes, have their caption and
     * were drawn at a timestep in [{@code minT}, {@code maxT}), the UNet also predicts, in the same call, from the same
     * noisy latent with a caption that binds the colours and shapes wrongly ({@link #negativeCaption}: by default
     * the colour words exchanged). The term is mean relu((1 + margin) · MSE_true − MSE_negative) / MSE_true (MSE_true
     * without gradient in the denominator): zero once the wrong binding denoises worse by the margin, a hinge on the
     * model as a classifier of the two captions (Li et al. 2023, "Your diffusion model is secretly a zero-shot
     * classifier"). Negatives that would name a held-out colour+shape pair are skipped, so those pairs stay out of
     * training entirely. Weight 0 turns it off. Call before training.
     */
    public DiffusionTask withBindingLoss(TrainConfig.Binding binding) {
        if (!(binding.weight() >= 0 && binding.margin() >= 0) || binding.minT() < 0 || binding.maxT() <= binding.minT()
                || binding.samples() < 1 || binding.startStep() < 0 || binding.negatives().isEmpty()) {
            throw new IllegalArgumentException("binding loss needs weight >= 0, margin >= 0, 0 <= min_t < max_t, samples >= 1, "
                    + "start step >= 0 and a kind of negative; got " + binding);
        }
        this.binding = binding;
        return this;
    }

    /** One step's examples: captions (B), scenes (B, null entries: none) and, on demand, the clean latents of samples [from, to). */
    interface Draw {
        List<String> captions();

        List<Scene> scenes();

        NDArray latents(NDManager scope, int from, int to, Random rng);                     // (to − from, C, h, w)
    }

    private Draw draw() {
        if (pool != null) return pool.next();
        Batch batch = loader.next();
        return new Draw() {
            @Override public List<String> captions() { return batch.captions(); }
            @Override public List<Scene> scenes() { return batch.scenes(); }
            @Override public NDArray latents(NDManager scope, int from, int to, Random rng) {
                return latents.encode(batch.slice(from, to).images(scope), rng);
            }
        };
    }

    @Override
    public NDArray loss(NDManager scope, long step, Random rng) {
        Draw batch = draw();
        List<String> captions = dropCaptions(batch.captions(), rng);
        return loss(scope, batch, 0, captions.size(), captions, 1, step, rng);
    }

    /**
     * The batch in {@code parts} slices; slice k draws its latents, timesteps and noise from its own generator, seeded
     * from {@code rng} after the CFG dropout of the whole batch. Its loss is its mean weighted by its share of the batch.
     * The text encoder is called from every worker, so it must be thread-safe (a {@link CaptionCache} is).
     */
    @Override
    public List<Function<NDManager, NDArray>> split(NDManager scope, long step, Random rng, int parts) {
        Draw batch = draw();
        List<String> captions = dropCaptions(batch.captions(), rng);
        int b = captions.size();
        List<Function<NDManager, NDArray>> out = new ArrayList<>();
        for (int k = 0; k < parts; k++) {
            int from = k * b / parts, to = (k + 1) * b / parts;
            List<String> sliceCaptions = captions.subList(from, to);
            Random sliceRng = new Random(rng.nextLong());
            float share = (to - from) / (float) b;
            out.add(partScope -> loss(partScope, batch, from, to, sliceCaptions, share, step, sliceRng).mul(share));
        }
        return out;
    }

    private List<String> dropCaptions(List<String> drawn, Random rng) {
        List<String> captions = new ArrayList<>(drawn);
        for (int i = 0; i < captions.size(); i++) if (rng.nextDouble() < cfgDropout) captions.set(i, "");
        return captions;
    }

    /**
     * Mean loss of samples [from, to) of {@code batch} with {@code captions} (theirs, after dropout); {@code share} of
     * the step's batch, the weight of this slice's terms in the logged means. With the binding term on (from its start
     * step), the samples it picks go through the same UNet call a second time with their negative captions.
     */
    private NDArray loss(NDManager scope, Draw batch, int from, int to, List<String> captions, float share, long step, Random rng) {
        NDArray x0 = batch.latents(scope, from, to, rng).stopGradient();                      // (B, C, h, w)
        NDArray ctx = text.encode(captions, scope).stopGradient();                            // (B, L, D)
        int b = captions.size();
        int[] t = new int[b];
        float[] tf = new float[b];
        for (int i = 0; i < b; i++) {
            t[i] = rng.nextInt(schedule.steps());
            tf[i] = t[i];
        }
        NDArray noise = Randn.randn(scope, x0.getShape(), rng);
        NDArray noisy = schedule.addNoise(x0, noise, t);
        NDArray target = prediction == Prediction.EPSILON ? noise : schedule.velocity(x0, noise, t);
        AttentionLoss.Targets targets = attentionLoss == null ? null
                : attentionLoss.targets(captions, batch.scenes() == null ? null : batch.scenes().subList(from, to));
        Negatives negatives = binding.weight() > 0 && step >= binding.startStep() ? negatives(batch, from, captions, share, t) : Negatives.NONE;
        boolean paired = negatives.count() > 0;
        NDIndex rows = paired ? new NDIndex("{}", scope.create(negatives.rows())) : null;
        NDArray input = noisy, steps = scope.create(tf, new Shape(b)), context = ctx;
        if (paired) {                                                                        // B + k samples in one call
            input = noisy.concat(noisy.get(rows), 0);
            steps = steps.concat(steps.get(rows), 0);
            context = ctx.concat(text.encode(negatives.captions(), scope).stopGradient(), 0);
        }
        NDArray all;
        List<NDArray> maps = null;
        if (targets == null || targets.isEmpty()) {
            all = denoiser.predict(input, steps, context);
        } else {
            try (AttentionMaps recorder = AttentionMaps.record(scope)) {
                all = denoiser.predict(input, steps, context);
                maps = new ArrayList<>();
                for (NDArray map : recorder.maps()) maps.add(paired ? map.get("0:" + b) : map);   // each (B, N, M)
            }
        }
        NDArray out = paired ? all.get("0:" + b) : all;                                      // (B, C, h, w)
        NDArray squaredError = out.sub(target).square();                                     // (B, C, h, w)
        NDArray se = squaredError;
        if (objectWeight > 0 && batch.scenes() != null) se = se.mul(objectWeights(scope, batch.scenes().subList(from, to), t, se.getShape()));
        NDArray loss = minSnrGamma == 0 ? se.mean()
                : se.reshape(b, -1).mean(new int[] {1}).mul(scope.create(minSnrWeights(t), new Shape(b))).mean();   // DJL's mean takes one axis
        if (paired) {
            NDArray hinge = bindingHinge(rows, negatives.count(), squaredError, all.get(b + ":"), target);
            bindingSum.add(hinge.getFloat() * share);
            loss = loss.add(hinge.mul((float) binding.weight()));
        }
        if (maps == null) return loss;
        NDArray attention = attentionLoss.loss(maps, targets);
        attentionSum.add(attention.getFloat() * share);
        return loss.add(attention.mul((float) attentionWeight));
    }

    /** Rows of a slice the binding term picked and their negative captions. */
    private record Negatives(long[] rows, List<String> captions) {
        static final Negatives NONE = new Negatives(new long[0], List.of());

        int count() { return rows.length; }
    }

    /**
     * Up to the slice's share of {@code binding_samples} rows, in order, that have their caption, were drawn at a
     * timestep in [{@code binding_min_t}, {@code binding_max_t}) and have a {@link #negativeCaption}.
     */
    private Negatives negatives(Draw batch, int from, List<String> captions, float share, int[] t) {
        if (batch.scenes() == null) return Negatives.NONE;
        int cap = Math.max(1, Math.round(binding.samples() * share));
        List<Long> rows = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < captions.size() && rows.size() < cap; i++) {
            if (captions.get(i).isEmpty() || t[i] < binding.minT() || t[i] >= binding.maxT()) continue;
            Optional<String> n = negativeCaption(captions.get(i), batch.scenes().get(from + i), binding.negatives());
            if (n.isEmpty()) continue;
            rows.add((long) i);
            wrong.add(n.get());
        }
        return new Negatives(rows.stream().mapToLong(Long::longValue).toArray(), wrong);
    }

    /**
     * mean relu((1 + margin) · MSE_true − MSE_negative) / MSE_true over the k picked {@code rows}, MSE_true without
     * gradient in the denominator; {@code squaredError} (B, C, h, w) that of the slice's predictions, {@code negative}
     * (k, C, h, w) the predictions from the negative captions.
     */
    private NDArray bindingHinge(NDIndex rows, int k, NDArray squaredError, NDArray negative, NDArray target) {
        NDArray mseTrue = squaredError.get(rows).reshape(k, -1).mean(new int[] {1});                   // (k)
        NDArray mseNegative = negative.sub(target.get(rows)).square().reshape(k, -1).mean(new int[] {1});   // (k)
        return mseTrue.mul((float) (1 + binding.margin())).sub(mseNegative)
                .div(mseTrue.stopGradient().maximum(1e-8f)).maximum(0f).mean();
    }

    /**
     * The caption the binding term contrasts with {@code caption} of {@code scene}: one of the {@code negatives}
     * ({@link SyntheticScenes#rebind}), the kind and the leak's direction chosen by a hash of the caption so that a
     * caption always meets the same one; empty when there is none or when it would name a held-out colour+shape pair,
     * so that those pairs stay out of training entirely.
     */
    public static Optional<String> negativeCaption(String caption, Scene scene, List<SyntheticScenes.Rebinding> negatives) {
        if (scene == null || scene.objects().size() != 2 || negatives.isEmpty()) return Optional.empty();
        long h = SyntheticScenes.mix(caption.hashCode(), 0x5EEDL);
        SyntheticScenes.Rebinding kind = negatives.get((int) Math.floorMod(h, (long) negatives.size()));
        boolean towardsFirst = ((h >>> 32) & 1) == 0;
        for (SyntheticScenes.Pair p : SyntheticScenes.rebound(scene, kind, towardsFirst)) {
            if (SyntheticScenes.isHeldOut(p.colour(), p.shape())) return Optional.empty();
        }
        return SyntheticScenes.rebind(caption, scene, kind, towardsFirst);
    }

    /**
     * {@code attention_loss} and {@code binding_loss}: each term (before its weight) summed over the steps since the
     * last call, when it is on.
     */
    @Override
    public Map<String, Double> takeTermSums() {
        Map<String, Double> sums = new LinkedHashMap<>();
        if (attentionLoss != null) sums.put("attention_loss", attentionSum.sumThenReset());
        if (binding.weight() > 0) sums.put("binding_loss", bindingSum.sumThenReset());
        return sums;
    }

    /** {@link ObjectWeights} of each sample drawn at timestep {@code t[i]} (1 everywhere from the max timestep on), (B, 1, h, w). */
    private NDArray objectWeights(NDManager scope, List<Scene> scenes, int[] t, Shape shape) {
        int b = (int) shape.get(0), h = (int) shape.get(2), w = (int) shape.get(3);
        if (h != w) throw new IllegalArgumentException("object_weight needs square latents, got " + shape);
        float[] all = new float[b * h * w];
        for (int i = 0; i < b; i++) {
            Scene scene = t[i] < objectWeightMaxT ? scenes.get(i) : null;
            System.arraycopy(ObjectWeights.of(scene, h, objectWeight), 0, all, i * h * w, h * w);
        }
        return scope.create(all, new Shape(b, 1, h, w));
    }

    /** Min-SNR-γ loss weight of each timestep. */
    float[] minSnrWeights(int[] t) {
        float[] w = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            double ab = schedule.alphasCumprod()[t[i]];
            double snr = ab / (1 - ab);
            w[i] = (float) (Math.min(snr, minSnrGamma) / (prediction == Prediction.EPSILON ? snr : snr + 1));
        }
        return w;
    }

    @Override
    public long dataPosition() { return pool != null ? pool.position() : loader.position(); }

    @Override
    public void seekData(long position) {
        if (pool != null) pool.seek(position);
        else loader.seek(position);
    }
}
