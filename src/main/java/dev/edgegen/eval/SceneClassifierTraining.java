package dev.edgegen.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.data.Batch;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Sample;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.data.SyntheticScenes.Split;
import dev.edgegen.train.Checkpoint;
import dev.edgegen.train.TensorArchive;
import dev.edgegen.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trains the {@link SceneClassifier} on CLASSIFIER_TRAIN scenes (all colour+shape pairs), then
 * validates it on real synthetic images: CLASSIFIER_VAL, and the HELD_OUT one- and two-object
 * scenes the generator is evaluated on. Exports the EMA weights with the validation numbers.
 */
public final class SceneClassifierTraining {
    private SceneClassifierTraining() {}

    /** Validation of the classifier on real synthetic images of each evaluation set. */
    public record Validation(PromptFollowing.Summary val, PromptFollowing.Summary heldOutOne, PromptFollowing.Summary heldOutTwo) {}

    static final class Task implements Trainer.Task {
        final SceneClassifier model;
        final DataLoader loader;

        Task(SceneClassifier model, DataLoader loader) {
            this.model = model;
            this.loader = loader;
        }

        @Override
        public NDArray loss(NDManager scope, long step, Random rng) {
            Batch b = loader.next();
            float[][] t = SceneClassifier.targets(b.scenes());
            NDArray target = scope.create(t[0], new Shape(b.size(), SceneClassifier.OUT, SceneClassifier.GRID, SceneClassifier.GRID));
            NDArray mask = scope.create(t[1], new Shape(b.size(), 1, SceneClassifier.GRID, SceneClassifier.GRID));
            return SceneClassifier.loss(model.forward(b.images(scope)), target, mask, 8f);
        }

        @Override
        public long dataPosition() { return loader.position(); }

        @Override
        public void seekData(long position) { loader.seek(position); }
    }

    /** Trains in {@code runDir} (resumable), loads the EMA weights into {@code model} and returns it. */
    public static SceneClassifier train(Path runDir, Trainer.Options options, int batchSize, boolean resume,
                                        Trainer.Listener listener, NDManager manager) throws IOException {
        SceneClassifier model = new SceneClassifier();
        model.initialize(manager, 0.05f, options.seed());
        ObjectNode cfg = new ObjectMapper().createObjectNode().put("model", "scene-classifier-v1").put("batch_size", batchSize);
        try (DataLoader loader = new DataLoader(SyntheticScenes.source(Split.CLASSIFIER_TRAIN), batchSize, 2, options.seed())) {
            Trainer trainer = new Trainer(model, options, cfg, runDir, manager);
            trainer.run(new Task(model, loader), resume, listener, true);
            try (NDManager tmp = manager.newSubManager()) {
                Checkpoint c = Checkpoint.load(trainer.checkpointFile(), tmp);
                Map<String, NDArray> ema = new LinkedHashMap<>();
                c.ema().forEach((k, v) -> {
                    NDArray copy = v.duplicate();
                    copy.attach(manager);
                    ema.put(k, copy);
                });
                var report = model.load(ema);
                if (!report.ok()) throw new IllegalStateException(report.describe());
            }
        }
        return model;
    }

    /** Classifier detections of the scenes' own renderings, judged against the scenes. */
    public static PromptFollowing.Summary validate(SceneClassifier model, Split split, int objects, int n, NDManager manager) {
        List<PromptFollowing.Judgement> js = new ArrayList<>();
        int batch = 50;
        for (int start = 0; start < n; start += batch) {
            int size = Math.min(batch, n - start);
            float[] px = new float[size * 3 * 64 * 64];
            List<dev.edgegen.data.Scene> scenes = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                Sample s = SyntheticScenes.sample(split, start + i, objects, new Random(0));
                System.arraycopy(s.pixels(), 0, px, i * 3 * 64 * 64, 3 * 64 * 64);
                scenes.add(s.scene());
            }
            try (NDManager scope = manager.newSubManager()) {
                List<List<SceneClassifier.Detection>> dets =
                        SceneClassifier.decode(model.forward(scope.create(px, new Shape(size, 3, 64, 64))), 0.5);
                for (int i = 0; i < size; i++) js.add(PromptFollowing.judge(scenes.get(i), dets.get(i)));
            }
        }
        return PromptFollowing.Summary.of(js);
    }

    public static Validation validateAll(SceneClassifier model, int n, NDManager manager) {
        return new Validation(validate(model, Split.CLASSIFIER_VAL, 0, n, manager),
                validate(model, Split.HELD_OUT, 1, n, manager), validate(model, Split.HELD_OUT, 2, n, manager));
    }

    /** Writes the weights with the validation numbers in the metadata. */
    public static void export(SceneClassifier model, Validation v, Path file) throws IOException {
        Map<String, NDArray> w = new LinkedHashMap<>();
        model.parameters().forEach((k, p) -> w.put(k, p.get()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", "scene-classifier-v1");
        meta.put("validation", new ObjectMapper().writeValueAsString(v));
        TensorArchive.write(file, w, meta);
    }

    /** Loads exported weights. */
    public static SceneClassifier load(Path file, NDManager manager) throws IOException {
        SceneClassifier model = new SceneClassifier();
        var report = model.load(TensorArchive.read(file, manager).tensors());
        if (!report.ok()) throw new IOException(file + " is not a scene classifier: " + report.describe());
        return model;
    }

    /** {@code train-scene-classifier RUN_DIR OUT_FILE STEPS [--resume]}: trains, validates on 500 images per set, exports. */
    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: SceneClassifierTraining RUN_DIR OUT_FILE STEPS [--resume]");
            System.exit(2);
        }
        long steps = Long.parseLong(args[2]);
        Trainer.Options o = new Trainer.Options(steps, 2e-3, Math.max(1, steps / 20), 0.05, 0.9, 0.999, 1e-8, 1e-4,
                1.0, 0.995, Math.max(1, steps / 10), 10, 0);
        PrintStream out = System.out;
        try (NDManager manager = NDManager.newBaseManager();
             dev.edgegen.train.TrainProgress progress = new dev.edgegen.train.TrainProgress(out, "scene classifier")) {
            SceneClassifier model = train(Path.of(args[0]), o, 32, args.length > 3 && args[3].equals("--resume"), progress, manager);
            Validation v = validateAll(model, 500, manager);
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(v));
            export(model, v, Path.of(args[1]));
        }
    }
}
