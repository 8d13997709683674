package dev.edgegen.nelf.student;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nelf.scene.View;
import dev.edgegen.train.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Trains a {@link MobileR2L} student as MobileR2L does, as a {@link Trainer.Task}: the first
 * {@code distillSteps} steps on the teacher's pseudo images, the next {@code finetuneSteps} on the
 * real training views; MSE. Each step takes one image (or a random patch of {@code patch x patch}
 * rays and its pixels), chosen with the step's rng; the learning rate decays over the whole run.
 */
public final class StudentTask implements Trainer.Task {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LOG_EVERY = 10;

    /** Steps of the two phases, peak learning rate, patch size (0 = whole image), checkpoint interval, seed. */
    public record Options(int distillSteps, int finetuneSteps, double lr, int patch, int checkpointEvery, long seed) {
        public Options {
            if (distillSteps < 0 || finetuneSteps < 0 || distillSteps + finetuneSteps < 1) {
                throw new IllegalArgumentException("need distill-steps + finetune-steps >= 1");
            }
            if (patch < 0 || checkpointEvery < 1 || !(lr > 0)) throw new IllegalArgumentException("patch >= 0, checkpoint interval >= 1 and lr > 0 required");
        }

        public int total() { return distillSteps + finetuneSteps; }

        /**
         * The shared trainer's settings: Adam (β 0.9 / 0.999, ε 1e-8) without weight decay, no warm-up,
         * cosine decay to 5% of the peak over both phases, no gradient clipping and no EMA (an average
         * would carry distillation-phase weights into the fine-tuned model).
         */
        public Trainer.Options trainer() {
            return new Trainer.Options(total(), lr, 0, 0.05, 0.9, 0.999, 1e-8, 0, 0, 0, checkpointEvery, LOG_EVERY, seed);
        }
    }

    /** A training image with its camera (a teacher pseudo view or a real view). */
    public record Target(Camera camera, RgbImage image) {
        public static Target of(View v) { return new Target(v.camera(), v.image()); }
    }

    private final MobileR2L model;
    private final Options options;
    private final List<Target> pseudo;
    private final List<Target> real;
    private final ObjectNode config;

    /** {@code model} must be initialised. */
    public StudentTask(MobileR2L model, Options options, List<Target> pseudo, List<Target> real) {
        if (options.distillSteps() > 0 && pseudo.isEmpty()) throw new IllegalArgumentException("distillation needs pseudo images");
        if (options.finetuneSteps() > 0 && real.isEmpty()) throw new IllegalArgumentException("fine-tuning needs real views");
        this.model = model;
        this.options = options;
        this.pseudo = List.copyOf(pseudo);
        this.real = List.copyOf(real);
        config = JSON.createObjectNode();
        config.put("kind", "student");
        config.set("model", JSON.valueToTree(model.config));
        config.put("distillSteps", options.distillSteps()).put("finetuneSteps", options.finetuneSteps())
                .put("patch", options.patch()).put("pseudoViews", pseudo.size()).put("realViews", real.size());
    }

    /** The model/data config stored with checkpoints (a resume with another one is refused). */
    public JsonNode config() { return config; }

    /** A trainer for this task writing to {@code runDir}; the model's arrays must belong to {@code manager}. */
    public Trainer trainer(Path runDir, NDManager manager) {
        return new Trainer(model, options.trainer(), config, runDir, manager);
    }

    /** "distill" or "finetune": the phase of step {@code step} (0-based). */
    public String phase(long step) {
        return step < options.distillSteps() ? "distill" : "finetune";
    }

    @Override
    public NDArray loss(NDManager scope, long step, Random rng) {
        List<Target> src = step < options.distillSteps() ? pseudo : real;
        Target t = src.get(rng.nextInt(src.size()));
        StudentConfig cfg = model.config;
        int s = cfg.totalUpscale();
        Camera low = t.camera().resized(t.camera().width() / s, t.camera().height() / s);
        int pw = options.patch() == 0 ? low.width() : Math.min(options.patch(), low.width());
        int ph = options.patch() == 0 ? low.height() : Math.min(options.patch(), low.height());
        int px = rng.nextInt(low.width() - pw + 1), py = rng.nextInt(low.height() - ph + 1);
        NDArray rays = RayEncoder.encode(scope, t.camera(), cfg);                    // (1, C, h, w)
        NDArray in = rays.get(":, :, " + py + ":" + (py + ph) + ", " + px + ":" + (px + pw));
        NDArray pred = model.forward(in);                                          // (1, 3, ph·s, pw·s)
        NDArray target = scope.create(crop(t.image(), px * s, py * s, pw * s, ph * s), new Shape(1, ph * s, pw * s, 3))
                .transpose(0, 3, 1, 2);                                            // (1, 3, ph·s, pw·s)
        return pred.sub(target).square().mean();
    }

    static float[] crop(RgbImage im, int x0, int y0, int w, int h) {
        float[] out = new float[w * h * 3];
        for (int y = 0; y < h; y++) System.arraycopy(im.rgb(), ((y0 + y) * im.width() + x0) * 3, out, y * w * 3, w * 3);
        return out;
    }
}
