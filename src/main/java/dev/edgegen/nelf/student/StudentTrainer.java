package dev.edgegen.nelf.student;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.cli.ProgressBar;
import dev.edgegen.nelf.Adam;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Checkpoint;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nelf.scene.View;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Trains a {@link MobileR2L} student as MobileR2L does: first on the teacher's pseudo images
 * ({@code distillSteps}), then on the real training views ({@code finetuneSteps}); MSE, Adam with
 * cosine decay over the whole run. Each step takes one image (or a random patch of
 * {@code patch x patch} rays and its pixels); the choice depends only on (seed, step), so a resumed
 * run continues exactly. Checkpoint: {@code DIR/student.ckpt}, every {@code checkpointEvery} steps and at the end.
 */
public final class StudentTrainer {
    public static final String FILE = "student.ckpt";
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Options(int distillSteps, int finetuneSteps, float lr, int patch, int checkpointEvery, long seed) {
        public Options {
            if (distillSteps < 0 || finetuneSteps < 0 || distillSteps + finetuneSteps < 1) {
                throw new IllegalArgumentException("need distill-steps + finetune-steps >= 1");
            }
            if (patch < 0 || checkpointEvery < 1 || !(lr > 0)) throw new IllegalArgumentException("patch >= 0, checkpoint interval >= 1 and lr > 0 required");
        }

        public int total() { return distillSteps + finetuneSteps; }
    }

    /** A training image with its camera (a teacher pseudo view or a real view). */
    public record Target(Camera camera, RgbImage image) {
        public static Target of(View v) { return new Target(v.camera(), v.image()); }
    }

    private StudentTrainer() {}

    static ObjectNode header(StudentConfig c, Options o, long step) {
        ObjectNode h = JSON.createObjectNode();
        h.put("kind", "student");
        h.set("config", JSON.valueToTree(c));
        h.set("options", JSON.valueToTree(o));
        h.put("step", step);
        return h;
    }

    public static MobileR2L train(NDManager manager, StudentConfig cfg, Options opt, List<Target> pseudo, List<Target> real,
                                  Path dir, boolean resume, PrintStream log) {
        return train(manager, cfg, opt, pseudo, real, dir, resume, Long.MAX_VALUE, log);
    }

    /** As above, stopping (with a checkpoint) after at most {@code maxStepsThisRun} steps; resume later with the same options. */
    public static MobileR2L train(NDManager manager, StudentConfig cfg, Options opt, List<Target> pseudo, List<Target> real,
                                  Path dir, boolean resume, long maxStepsThisRun, PrintStream log) {
        if (opt.distillSteps() > 0 && pseudo.isEmpty()) throw new IllegalArgumentException("distillation needs pseudo images");
        if (opt.finetuneSteps() > 0 && real.isEmpty()) throw new IllegalArgumentException("fine-tuning needs real views");
        MobileR2L model = new MobileR2L(cfg);
        model.initialize(manager, opt.seed());
        long step = 0;
        Path ckpt = dir.resolve(FILE);
        Checkpoint.Loaded resumed = resume ? Checkpoint.resume(ckpt, manager, model, cfg, StudentConfig.class) : null;
        if (resumed != null) {
            step = resumed.header().get("step").asLong();
            log.println("resumed student from step " + step);
        }
        Adam adam = new Adam(manager, model.parameters()); // after loading: it marks the current arrays as trainable
        if (resumed != null) adam.restore(resumed.arrays(), step);
        int s = cfg.totalUpscale();
        long stopAt = opt.total() - step <= maxStepsThisRun ? opt.total() : step + maxStepsThisRun;
        try (ProgressBar bar = new ProgressBar(log, "student", opt.total(), step)) {
            double ema = Double.NaN;
            while (step < stopAt) {
                SplittableRandom rng = new SplittableRandom(opt.seed() * 0x9E3779B97F4A7C15L + step);
                boolean distill = step < opt.distillSteps();
                List<Target> src = distill ? pseudo : real;
                Target t = src.get(rng.nextInt(src.size()));
                Camera low = t.camera().resized(t.camera().width() / s, t.camera().height() / s);
                int pw = opt.patch() == 0 ? low.width() : Math.min(opt.patch(), low.width());
                int ph = opt.patch() == 0 ? low.height() : Math.min(opt.patch(), low.height());
                int px = rng.nextInt(low.width() - pw + 1), py = rng.nextInt(low.height() - ph + 1);
                float loss;
                try (NDManager sub = manager.newSubManager();
                     GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray rays = RayEncoder.encode(sub, t.camera(), cfg);              // (1, C, h, w)
                    NDArray in = rays.get(":, :, " + py + ":" + (py + ph) + ", " + px + ":" + (px + pw));
                    NDArray pred = model.forward(in);                                  // (1, 3, ph·s, pw·s)
                    NDArray target = sub.create(crop(t.image(), px * s, py * s, pw * s, ph * s), new Shape(1, ph * s, pw * s, 3))
                            .transpose(0, 3, 1, 2);
                    NDArray l = pred.sub(target).square().mean();
                    gc.backward(l);
                    loss = l.getFloat();
                }
                double lr = opt.lr() * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * step / opt.total())));
                adam.step((float) lr);
                step++;
                ema = Double.isNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
                if (step % opt.checkpointEvery() == 0 || step == stopAt) {
                    Checkpoint.save(ckpt, header(cfg, opt, step), model, adam);
                }
                bar.step(step, String.format(Locale.ROOT, "%s  loss %.5f  psnr %.2f", distill ? "distill" : "finetune", ema, -10 * Math.log10(ema)));
            }
        }
        return model;
    }

    static float[] crop(RgbImage im, int x0, int y0, int w, int h) {
        float[] out = new float[w * h * 3];
        for (int y = 0; y < h; y++) System.arraycopy(im.rgb(), ((y0 + y) * im.width() + x0) * 3, out, y * w * 3, w * 3);
        return out;
    }

    /** Loads a student from {@code DIR/student.ckpt} (or the file itself). */
    public static MobileR2L load(NDManager manager, Path dirOrFile) {
        Path ckpt = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE) : dirOrFile;
        Checkpoint.Loaded l = Checkpoint.load(ckpt, manager);
        if (!"student".equals(l.header().path("kind").asText())) throw new IllegalArgumentException(ckpt + ": not a student checkpoint");
        StudentConfig cfg = JSON.convertValue(l.header().get("config"), StudentConfig.class);
        MobileR2L model = new MobileR2L(cfg);
        Checkpoint.loadWeights(ckpt, model, l.arrays());
        l.arrays().forEach((k, a) -> { if (Checkpoint.isState(k)) a.close(); });
        return model;
    }

    /** Renders a camera to an image (no gradients). */
    public static RgbImage renderImage(NDManager manager, MobileR2L model, Camera cam) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray out = model.render(sub, cam).get(0).transpose(1, 2, 0);  // (H, W, 3)
            return new RgbImage(cam.width(), cam.height(), out.toFloatArray());
        }
    }
}
