package dev.edgegen.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.data.EmojiDataset;
import dev.edgegen.data.Sample;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.io.Images;
import dev.edgegen.pipeline.GenerationRequest;
import dev.edgegen.pipeline.TextToImage;
import dev.edgegen.text.MiniLmTextEncoder;
import dev.edgegen.train.CaptionCache;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Scores a text-to-image model on a fixed prompt set with the frozen evaluation models of
 * {@code models/eval}: prompt-following accuracy (scene classifier; synthetic sets only), CLIP score
 * (contrastive model: cosine of image and prompt embeddings) and FID in the contrastive model's 128-d
 * feature space against real images of the same split, with its floor (real training images against the
 * same reference). Images are generated {@link #PER_PROMPT} at a time per prompt (one batch, seeds
 * {@code seed + prompt index}).
 */
public final class Evaluation implements AutoCloseable {
    /** Images generated per prompt (one batched call). */
    public static final int PER_PROMPT = 4;
    /** Real reference images per synthetic set for FID. */
    public static final int REFERENCE = 1000;

    /** A named evaluation prompt set. */
    public enum PromptSet {
        HELD_OUT_1("held-out-1", "held-out synthetic prompts, 1 object (colour+shape pairs never trained on)"),
        HELD_OUT_2("held-out-2", "held-out synthetic prompts, 2 objects (the first object's pair never trained on)"),
        VAL("val", "validation synthetic prompts, 1-3 objects (seen pairs, unseen scenes)"),
        EMOJI("emoji", "16 well-known emoji names, then captions of training-set emoji (CLIP score only)");

        public final String id;
        public final String description;

        PromptSet(String id, String description) { this.id = id; this.description = description; }

        public static PromptSet of(String id) {
            for (PromptSet s : values()) if (s.id.equals(id)) return s;
            StringBuilder known = new StringBuilder();
            for (PromptSet s : values()) known.append(known.length() == 0 ? "" : ", ").append(s.id);
            throw new IllegalArgumentException("unknown prompt set \"" + id + "\"; known: " + known + " (and held-out = held-out-1 + held-out-2)");
        }

        public boolean synthetic() { return this != EMOJI; }

        SyntheticScenes.Split split() { return this == VAL ? SyntheticScenes.Split.VAL : SyntheticScenes.Split.HELD_OUT; }

        int objects() { return this == HELD_OUT_1 ? 1 : this == HELD_OUT_2 ? 2 : 0; }
    }

    /**
     * Scores of one prompt set at one guidance scale; prompt following is null for the emoji set, FID NaN there.
     * {@code vaeFollowing} is the prompt following of the autoencoder's round trip of real images: the ceiling
     * the decoder leaves the UNet; {@code vaeFollowingByBackground} the same per background colour.
     */
    public record SetResult(String set, int images, int prompts, double clipScore, double clipScoreReal,
                            double fid, double fidFloor, double vaePsnr, PromptFollowing.Summary following,
                            PromptFollowing.Summary vaeFollowing, java.util.Map<String, PromptFollowing.Summary> vaeFollowingByBackground,
                            double secondsPerImage) {}

    /** Real images per synthetic set whose autoencoder round trip (encode → mean → decode) is scored. */
    public static final int RECONSTRUCTED = 100;

    private final NDManager manager;
    private final SceneClassifier classifier;
    private final ContrastiveModel contrastive;
    private final MiniLmTextEncoder text;
    private final CaptionCache sentences;
    private final Path emojiDir;

    /** Loads the frozen evaluation models from {@code evalDir} (models/eval); emoji prompts come from {@code emojiDir}. */
    public Evaluation(Path evalDir, Path emojiDir, NDManager manager) throws IOException {
        this.manager = manager;
        this.emojiDir = emojiDir;
        classifier = new SceneClassifier();
        Path cls = evalDir.resolve("scene_classifier.safetensors");
        try (dev.edgegen.io.SafetensorsFile f = dev.edgegen.io.SafetensorsFile.open(cls)) {
            var report = classifier.load(f.loadAll(manager));
            if (!report.ok()) throw new IOException(cls + " is not the scene classifier: " + report.describe());
        }
        contrastive = ContrastiveTraining.load(evalDir.resolve("contrastive.safetensors"), manager);
        text = MiniLmTextEncoder.load(manager, 24);
        sentences = ContrastiveTraining.sentenceCache(text);
    }

    /** The prompts of a set: {@code count} distinct prompts, each with its scene (null for emoji). */
    public List<PromptSets.Prompt> prompts(PromptSet set, int count) throws IOException {
        if (set.synthetic()) {
            if (set == PromptSet.VAL) {   // 1, 2 and 3 objects in turn
                int each = (count + 2) / 3;
                List<List<PromptSets.Prompt>> byCount = List.of(PromptSets.synthetic(SyntheticScenes.Split.VAL, 1, each),
                        PromptSets.synthetic(SyntheticScenes.Split.VAL, 2, each), PromptSets.synthetic(SyntheticScenes.Split.VAL, 3, each));
                List<PromptSets.Prompt> out = new ArrayList<>();
                for (int i = 0; i < count; i++) out.add(byCount.get(i % 3).get(i / 3));
                return out;
            }
            // One-object held-out prompts are few (one per held-out pair): they repeat, with new seeds.
            int distinct = set == PromptSet.HELD_OUT_1 ? Math.min(count, SyntheticScenes.HELD_OUT.size()) : count;
            List<PromptSets.Prompt> base = PromptSets.synthetic(set.split(), set.objects(), distinct);
            List<PromptSets.Prompt> out = new ArrayList<>();
            for (int i = 0; i < count; i++) out.add(base.get(i % base.size()));
            return out;
        }
        EmojiDataset d = EmojiDataset.load(emojiDir, List.of("google"), EmojiDataset.Split.TRAIN, 0.05, false);
        List<EmojiDataset.Entry> es = d.entries();
        List<PromptSets.Prompt> out = new ArrayList<>(PromptSets.emojiGrid().subList(0, Math.min(count, PromptSets.emojiGrid().size())));
        Random r = new Random(0);
        int rest = count - out.size();
        for (int i = 0; i < rest; i++) {
            EmojiDataset.Entry e = es.get((int) ((long) i * es.size() / rest));
            out.add(new PromptSets.Prompt(EmojiDataset.caption(e, r), null));
        }
        return out;
    }

    /**
     * Generates {@code PER_PROMPT} images for each of {@code prompts} (DDIM-style request with the given
     * sampler, steps and scale) and scores them. {@code images} receives every generated image in order;
     * {@code progress} the number of prompts done.
     */
    public SetResult score(TextToImage t2i, PromptSet set, List<PromptSets.Prompt> prompts, String sampler, int steps,
                           float cfg, float guidanceRescale, long seed, int size, List<BufferedImage> images, IntConsumer progress) {
        long t0 = System.nanoTime();
        List<PromptFollowing.Judgement> judgements = new ArrayList<>();
        int n = prompts.size() * PER_PROMPT;
        float[] feats = new float[n * ContrastiveModel.FEATURES];
        double clip = 0;
        for (int i = 0; i < prompts.size(); i++) {
            PromptSets.Prompt p = prompts.get(i);
            List<BufferedImage> ims = t2i.generate(new GenerationRequest(p.text(), "", steps, cfg, sampler, seed + i, size, size,
                    PER_PROMPT, null, 0.75f, null, null, null, guidanceRescale), null).images();
            images.addAll(ims);
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = batch(ims, scope);                                             // (K, 3, 64, 64) in [-1, 1]
                if (p.scene() != null) {
                    List<Scene> scenes = new ArrayList<>();
                    for (int k = 0; k < ims.size(); k++) scenes.add(p.scene());
                    judgements.addAll(PromptFollowing.score(classifier, x, scenes));
                }
                float[] f = contrastive.imageFeatures(x).toFloatArray();
                System.arraycopy(f, 0, feats, i * PER_PROMPT * ContrastiveModel.FEATURES, f.length);
                NDArray img = contrastive.imageEmbedding(x);
                NDArray txt = contrastive.textEmbedding(sentences.encode(List.of(p.text()), scope));   // (1, E)
                clip += ContrastiveModel.clipScore(img, txt.repeat(0, ims.size())) * ims.size();
            }
            if (progress != null) progress.accept(i + 1);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double fid = Double.NaN, floor = Double.NaN, clipReal = Double.NaN;
        Reconstruction rt = new Reconstruction(Double.NaN, null, null, Double.NaN, Double.NaN);
        if (set.synthetic()) {
            RealSide real = realSide.computeIfAbsent(new RealKey(set, List.copyOf(prompts), t2i.model().vae), this::realSide);
            fid = Frechet.distance(Frechet.stats(feats, n, ContrastiveModel.FEATURES), real.reference());
            floor = real.floor();
            clipReal = real.clipReal();
            rt = real.reconstruction();
        }
        return new SetResult(set.id, n, prompts.size(), clip / n, clipReal, fid, floor, rt.psnr(),
                judgements.isEmpty() ? null : PromptFollowing.Summary.of(judgements), rt.following(), rt.byBackground(), seconds / n);
    }

    /** What a set's scores compare against, the same at every guidance scale: computed once per set, prompts and autoencoder. */
    private record RealKey(PromptSet set, List<PromptSets.Prompt> prompts, dev.edgegen.vae.AutoencoderKL vae) {}

    private record RealSide(Frechet.Stats reference, double floor, double clipReal, Reconstruction reconstruction) {}

    private final java.util.Map<RealKey, RealSide> realSide = new java.util.HashMap<>();

    /**
     * FID reference statistics of {@link #REFERENCE} real images of the set, the FID floor (as many real training
     * images, same object counts, as the prompts get generated images), the real-image CLIP score and the
     * autoencoder's round trip.
     */
    private RealSide realSide(RealKey k) {
        int d = ContrastiveModel.FEATURES;
        int n = k.prompts().size() * PER_PROMPT;
        List<Sample> reference = ContrastiveTraining.scenes(k.set().split(), k.set().objects(), REFERENCE);
        Frechet.Stats ref = Frechet.stats(ContrastiveTraining.features(contrastive, reference, manager), reference.size(), d);
        List<Sample> train = ContrastiveTraining.scenes(SyntheticScenes.Split.TRAIN, k.set().objects(), n);
        double floor = Frechet.distance(Frechet.stats(ContrastiveTraining.features(contrastive, train, manager), n, d), ref);
        return new RealSide(ref, floor, realClipScore(k.prompts()), reconstruction(k.vae(), reference.subList(0, RECONSTRUCTED)));
    }

    /** CLIP score of real renderings of the prompts' scenes with their prompts: the ceiling for generated images. */
    private double realClipScore(List<PromptSets.Prompt> prompts) {
        double sum = 0;
        Random jitter = new Random(7);
        try (NDManager scope = manager.newSubManager()) {
            for (int start = 0; start < prompts.size(); start += 100) {
                List<PromptSets.Prompt> g = prompts.subList(start, Math.min(prompts.size(), start + 100));
                List<BufferedImage> ims = new ArrayList<>();
                for (PromptSets.Prompt p : g) ims.add(SyntheticScenes.render(p.scene(), jitter));
                NDArray img = contrastive.imageEmbedding(batch(ims, scope));
                NDArray txt = contrastive.textEmbedding(sentences.encode(g.stream().map(PromptSets.Prompt::text).toList(), scope));
                sum += ContrastiveModel.clipScore(img, txt) * g.size();
            }
        }
        return sum / prompts.size();
    }

    /**
     * The first {@code count} reference scenes of a synthetic set and their autoencoder round trips, interleaved
     * (real, reconstructed, real, ...), for a picture of what the decoder keeps.
     */
    public List<BufferedImage> roundTrips(dev.edgegen.vae.AutoencoderKL vae, PromptSet set, int count) {
        if (!set.synthetic()) throw new IllegalArgumentException("round trips are drawn from synthetic sets, not " + set.id);
        List<Sample> g = ContrastiveTraining.scenes(set.split(), set.objects(), count);
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = ContrastiveTraining.images(g, scope);                           // (count, 3, 64, 64) in [-1, 1]
            List<BufferedImage> real = Images.fromBatch(x);
            List<BufferedImage> back = Images.fromBatch(vae.decode(vae.encode(x).mean()));
            List<BufferedImage> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                out.add(real.get(i));
                out.add(back.get(i));
            }
            return out;
        }
    }

    /**
     * The first {@code count} reference scenes of a synthetic set, each followed by its latent's channels (each
     * channel standardised over these scenes: grey = its mean, black / white = ∓3 standard deviations), one row per
     * scene: the maps the UNet has to generate.
     */
    public List<BufferedImage> latentMaps(dev.edgegen.vae.AutoencoderKL vae, PromptSet set, int count) {
        if (!set.synthetic()) throw new IllegalArgumentException("latent maps are drawn from synthetic sets, not " + set.id);
        List<Sample> g = ContrastiveTraining.scenes(set.split(), set.objects(), count);
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = ContrastiveTraining.images(g, scope);                           // (count, 3, 64, 64)
            NDArray raw = vae.encode(x).mean();                                         // (count, C, h, w)
            NDArray mean = raw.mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {0}, true);   // (1, C, 1, 1)
            NDArray centred = raw.sub(mean);
            NDArray std = centred.square().mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {0}, true).sqrt();
            NDArray z = centred.div(std.add(1e-12f));                                  // each channel standardised over these scenes
            int c = (int) z.getShape().get(1);
            List<BufferedImage> real = Images.fromBatch(x);
            List<BufferedImage> maps = Images.channels(z, (int) (x.getShape().get(2) / z.getShape().get(2)), 3f);
            List<BufferedImage> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                out.add(real.get(i));
                out.addAll(maps.subList(i * c, (i + 1) * c));
            }
            return out;
        }
    }

    /** The autoencoder's round trip of real images: PSNR (dB), prompt following of the reconstructions, and per background. */
    /**
     * {@code latentHighFrequency} / {@code imageHighFrequency}: {@link dev.edgegen.tensor.Ops#highFrequencyShare} of the
     * diffusion latents and of the images themselves; a latent far above its image carries detail in a form diffusion
     * finds hard to generate (Skorokhodov et al. 2025).
     */
    public record Reconstruction(double psnr, PromptFollowing.Summary following, java.util.Map<String, PromptFollowing.Summary> byBackground,
                                 double latentHighFrequency, double imageHighFrequency) {}

    /**
     * The round trip of the {@link #RECONSTRUCTED} first reference scenes of a synthetic set, as {@link #score} reports
     * it, for an autoencoder alone (e.g. a training run before any UNet is trained on it).
     */
    public Reconstruction reconstruction(dev.edgegen.vae.AutoencoderKL vae, PromptSet set) {
        if (!set.synthetic()) throw new IllegalArgumentException("round trips are drawn from synthetic sets, not " + set.id);
        return reconstruction(vae, ContrastiveTraining.scenes(set.split(), set.objects(), RECONSTRUCTED));
    }

    /**
     * PSNR (dB, pixels in [0, 1]) and prompt following of the autoencoder's round trip (encode → mean → decode)
     * of real scenes: upper bounds on what the decoder lets generated images look like, independent of the UNet.
     */
    private Reconstruction reconstruction(dev.edgegen.vae.AutoencoderKL vae, List<Sample> samples) {
        double mse = 0, latentHf = 0, imageHf = 0;
        List<PromptFollowing.Judgement> js = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            for (int start = 0; start < samples.size(); start += 25) {
                List<Sample> g = samples.subList(start, Math.min(samples.size(), start + 25));
                NDArray x = ContrastiveTraining.images(g, scope);                       // (B, 3, 64, 64) in [-1, 1]
                NDArray z = vae.encode(x).mean();                                       // (B, C, h, w)
                latentHf += dev.edgegen.tensor.Ops.highFrequencyShare(vae.toDiffusionLatents(z)) * g.size();
                imageHf += dev.edgegen.tensor.Ops.highFrequencyShare(x) * g.size();
                NDArray r = vae.decode(z).clip(-1f, 1f);
                mse += r.sub(x).div(2f).square().mean().getFloat() * g.size();
                js.addAll(PromptFollowing.score(classifier, r, g.stream().map(Sample::scene).toList()));
            }
        }
        java.util.Map<String, PromptFollowing.Summary> byBackground = new java.util.LinkedHashMap<>();
        for (Scene.Background bg : Scene.Background.values()) {
            List<PromptFollowing.Judgement> sub = new ArrayList<>();
            for (int i = 0; i < samples.size(); i++) if (samples.get(i).scene().background() == bg) sub.add(js.get(i));
            if (!sub.isEmpty()) byBackground.put(bg.word(), PromptFollowing.Summary.of(sub));
        }
        return new Reconstruction(10 * Math.log10(1 / (mse / samples.size())), PromptFollowing.Summary.of(js), byBackground,
                latentHf / samples.size(), imageHf / samples.size());
    }

    /** Images → (B, 3, H, W) in [-1, 1]. */
    private static NDArray batch(List<BufferedImage> ims, NDManager scope) {
        NDArray[] xs = new NDArray[ims.size()];
        for (int i = 0; i < xs.length; i++) xs[i] = Images.toArray(ims.get(i), scope);
        NDArray x = ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(xs), 0);
        Shape s = x.getShape();
        if (s.get(2) != 64 || s.get(3) != 64) {
            throw new IllegalArgumentException("the evaluation models take 64x64 images, got " + s.get(3) + "x" + s.get(2));
        }
        return x.mul(2f).sub(1f);
    }

    @Override
    public void close() {
        text.close();
    }
}
