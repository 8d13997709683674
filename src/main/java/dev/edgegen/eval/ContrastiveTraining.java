package dev.edgegen.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.data.Batch;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Dataset;
import dev.edgegen.data.EmojiDataset;
import dev.edgegen.data.Mixture;
import dev.edgegen.data.Sample;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.text.MiniLmTextEncoder;
import dev.edgegen.train.CaptionCache;
import dev.edgegen.train.Checkpoint;
import dev.edgegen.train.TensorArchive;
import dev.edgegen.train.TrainProgress;
import dev.edgegen.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trains the {@link ContrastiveModel} (CLIP score and FID features) on emoji and synthetic scenes,
 * validates it on held-out real images (CLIP score of true vs shuffled pairs, image→text top-1 in
 * groups of 100) and measures the FID floor (train vs held-out real images) in its feature space.
 */
public final class ContrastiveTraining {
    private ContrastiveTraining() {}

    /** Held-out evaluation of one image set. */
    public record SetReport(String set, int n, double clipScore, double clipScoreShuffled, double top1) {}

    /** Frozen MiniLM sentence embeddings (B, 384) with a cache. */
    public static CaptionCache sentenceCache(MiniLmTextEncoder text) {
        return new CaptionCache((captions, m) -> MiniLmTextEncoder.meanPool(text.encode(captions, m)), 20_000);
    }

    static final class Task implements Trainer.Task {
        final ContrastiveModel model;
        final DataLoader loader;
        final CaptionCache text;

        Task(ContrastiveModel model, DataLoader loader, CaptionCache text) {
            this.model = model;
            this.loader = loader;
            this.text = text;
        }

        @Override
        public NDArray loss(NDManager scope, long step, Random rng) {
            Batch b = loader.next();
            return model.loss(b.images(scope), text.encode(b.captions(), scope));
        }

        @Override
        public long dataPosition() { return loader.position(); }

        @Override
        public void seekData(long position) { loader.seek(position); }
    }

    public static ContrastiveModel train(Path runDir, Trainer.Options o, int batch, Path emojiDir, boolean resume,
                                        Trainer.Listener listener, MiniLmTextEncoder text, NDManager m) throws IOException {
        ContrastiveModel model = new ContrastiveModel();
        model.init(m, o.seed());
        EmojiDataset emoji = EmojiDataset.load(emojiDir, List.of("google"), EmojiDataset.Split.TRAIN, 0.05, false).verifyImages();
        Dataset data = new Mixture(List.of(emoji.source(o.seed(), true), SyntheticScenes.source(SyntheticScenes.Split.TRAIN)),
                new double[] {1, 1});
        ObjectNode cfg = new ObjectMapper().createObjectNode().put("model", "contrastive-v1").put("batch_size", batch);
        try (DataLoader loader = new DataLoader(data, batch, 2, o.seed())) {
            Trainer trainer = new Trainer(model, o, cfg, runDir, m);
            trainer.run(new Task(model, loader, sentenceCache(text)), resume, listener, true);
            try (NDManager tmp = m.newSubManager()) {
                Map<String, NDArray> ema = new LinkedHashMap<>();
                Checkpoint.load(trainer.checkpointFile(), tmp).ema().forEach((k, v) -> {
                    NDArray c = v.duplicate();
                    c.attach(m);
                    ema.put(k, c);
                });
                var report = model.load(ema);
                if (!report.ok()) throw new IllegalStateException(report.describe());
            }
        }
        return model;
    }

    /** CLIP score of true and of shuffled pairs, and image→text top-1, in groups of (up to) 100 samples. */
    public static SetReport evaluate(String name, ContrastiveModel model, List<Sample> samples, CaptionCache text, NDManager m) {
        int group = Math.min(100, samples.size());
        double score = 0, shuffled = 0, top1 = 0;
        int groups = 0, hits = 0, n = 0;
        for (int start = 0; start + group <= samples.size(); start += group) {
            List<Sample> g = samples.subList(start, start + group);
            try (NDManager s = m.newSubManager()) {
                NDArray img = model.imageEmbedding(images(g, s));
                List<String> caps = g.stream().map(Sample::caption).toList();
                NDArray txt = model.textEmbedding(text.encode(caps, s));
                score += ContrastiveModel.clipScore(img, txt);
                NDArray rolled = txt.get("1:").concat(txt.get(":1"), 0);
                shuffled += ContrastiveModel.clipScore(img, rolled);
                long[] best = img.matMul(txt.transpose()).argMax(1).toLongArray();
                for (int i = 0; i < group; i++) hits += best[i] == i || caps.get((int) best[i]).equals(caps.get(i)) ? 1 : 0;
                groups++;
                n += group;
            }
        }
        top1 = hits / (double) n;
        return new SetReport(name, n, score / groups, shuffled / groups, top1);
    }

    static NDArray images(List<Sample> g, NDManager s) {
        float[] px = new float[g.size() * 3 * 64 * 64];
        for (int i = 0; i < g.size(); i++) System.arraycopy(g.get(i).pixels(), 0, px, i * 3 * 64 * 64, 3 * 64 * 64);
        return s.create(px, new Shape(g.size(), 3, 64, 64));
    }

    /** FID features (n, 128) of samples. */
    public static float[] features(ContrastiveModel model, List<Sample> samples, NDManager m) {
        float[] out = new float[samples.size() * ContrastiveModel.FEATURES];
        for (int start = 0; start < samples.size(); start += 100) {
            List<Sample> g = samples.subList(start, Math.min(samples.size(), start + 100));
            try (NDManager s = m.newSubManager()) {
                float[] f = model.imageFeatures(images(g, s)).toFloatArray();
                System.arraycopy(f, 0, out, start * ContrastiveModel.FEATURES, f.length);
            }
        }
        return out;
    }

    public static double fid(ContrastiveModel model, List<Sample> a, List<Sample> b, NDManager m) {
        int d = ContrastiveModel.FEATURES;
        return Frechet.distance(Frechet.stats(features(model, a, m), a.size(), d), Frechet.stats(features(model, b, m), b.size(), d));
    }

    static List<Sample> emojiSamples(Path dir, EmojiDataset.Split split) throws IOException {
        EmojiDataset d = EmojiDataset.load(dir, List.of("google"), split, 0.05, false).verifyImages();
        List<Sample> out = new ArrayList<>();
        Random r = new Random(0);
        for (EmojiDataset.Entry e : d.entries()) out.add(new Sample(d.pixels(e), EmojiDataset.caption(e, r), null));
        return out;
    }

    static List<Sample> scenes(SyntheticScenes.Split split, int objects, int n) {
        List<Sample> out = new ArrayList<>();
        Random r = new Random(0);
        for (int i = 0; i < n; i++) out.add(SyntheticScenes.sample(split, i, objects, r));
        return out;
    }

    public static void export(ContrastiveModel model, String validation, Path file) throws IOException {
        Map<String, NDArray> w = new LinkedHashMap<>();
        model.parameters().forEach((k, p) -> w.put(k, p.get()));
        TensorArchive.write(file, w, Map.of("model", "contrastive-v1", "validation", validation));
    }

    public static ContrastiveModel load(Path file, NDManager m) throws IOException {
        ContrastiveModel model = new ContrastiveModel();
        var report = model.load(TensorArchive.read(file, m).tensors());
        if (!report.ok()) throw new IOException(file + " is not a contrastive model: " + report.describe());
        return model;
    }

    /** {@code RUN_DIR OUT_FILE STEPS [--resume]}: trains, validates on held-out images, measures the FID floor, exports. */
    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: ContrastiveTraining RUN_DIR OUT_FILE STEPS [--resume]");
            System.exit(2);
        }
        long steps = Long.parseLong(args[2]);
        Trainer.Options o = new Trainer.Options(steps, 1e-3, Math.max(1, steps / 20), 0.05, 0.9, 0.98, 1e-6, 0.05,
                1.0, 0.995, Math.max(1, steps / 10), 10, 0);
        Path emojiDir = Path.of("data/emoji");
        ObjectMapper json = new ObjectMapper();
        try (NDManager m = NDManager.newBaseManager(); MiniLmTextEncoder text = MiniLmTextEncoder.load(m, 24);
             TrainProgress progress = new TrainProgress(System.out, "contrastive")) {
            ContrastiveModel model = train(Path.of(args[0]), o, 64, emojiDir, args.length > 3 && args[3].equals("--resume"), progress, text, m);
            CaptionCache cache = sentenceCache(text);
            List<Sample> emojiVal = emojiSamples(emojiDir, EmojiDataset.Split.VAL);
            List<Sample> emojiTrain = emojiSamples(emojiDir, EmojiDataset.Split.TRAIN);
            List<SetReport> sets = List.of(
                    evaluate("emoji VAL (held-out emoji)", model, emojiVal, cache, m),
                    evaluate("synthetic VAL", model, scenes(SyntheticScenes.Split.VAL, 0, 500), cache, m),
                    evaluate("synthetic HELD_OUT, 1 object", model, scenes(SyntheticScenes.Split.HELD_OUT, 1, 500), cache, m),
                    evaluate("synthetic HELD_OUT, 2 objects", model, scenes(SyntheticScenes.Split.HELD_OUT, 2, 500), cache, m));
            ObjectNode report = json.createObjectNode();
            report.set("sets", json.valueToTree(sets));
            report.put("fid_floor_emoji_train_vs_val", fid(model, emojiTrain.subList(0, Math.min(2000, emojiTrain.size())), emojiVal, m));
            report.put("emoji_val_images", emojiVal.size());
            report.put("fid_floor_synthetic_train_vs_val", fid(model, scenes(SyntheticScenes.Split.TRAIN, 0, 2000),
                    scenes(SyntheticScenes.Split.VAL, 0, 2000), m));
            String text2 = json.writerWithDefaultPrettyPrinter().writeValueAsString(report);
            System.out.println(text2);
            export(model, json.writeValueAsString(report), Path.of(args[1]));
        }
    }
}
