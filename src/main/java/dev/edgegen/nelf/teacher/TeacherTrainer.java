package dev.edgegen.nelf.teacher;

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
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.View;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Trains a {@link VoxelNeRF} on the training views only: random rays from all views per step, MSE,
 * Adam (grid and MLP learning rates, cosine decay to 10%), occupancy refresh every
 * {@code occupancyEvery} steps after a warm-up. The batch of step s depends only on (seed, s), so a
 * run resumed from a checkpoint continues exactly. Checkpoint: {@code DIR/teacher.ckpt}.
 */
public final class TeacherTrainer {
    public static final String FILE = "teacher.ckpt";
    public static final float OCCUPANCY_ALPHA = 1e-2f;
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Options(int steps, int batchRays, float lrGrid, float lrMlp, int checkpointEvery,
                          int occupancyEvery, int occupancyWarmup, long seed) {
        public Options {
            if (steps < 1 || batchRays < 1) throw new IllegalArgumentException("steps and batch rays must be >= 1");
            if (checkpointEvery < 1 || occupancyEvery < 1) throw new IllegalArgumentException("checkpoint and occupancy intervals must be >= 1");
        }

        public static Options defaults() {
            return new Options(3000, 4096, 0.1f, 2e-3f, 500, 25, 50, 0);
        }
    }

    private TeacherTrainer() {}

    public static ObjectNode header(TeacherConfig c, Options o, long step) {
        ObjectNode h = JSON.createObjectNode();
        h.put("kind", "teacher");
        h.set("config", JSON.valueToTree(c));
        h.set("options", JSON.valueToTree(o));
        h.put("step", step);
        return h;
    }

    /** Trains (or resumes) into {@code dir}; returns the model, owned by {@code manager}. */
    public static VoxelNeRF train(NDManager manager, SceneDataset data, TeacherConfig cfg, Options opt, Path dir,
                                 boolean resume, PrintStream log) {
        return train(manager, data, cfg, opt, dir, resume, Long.MAX_VALUE, log);
    }

    /** As above, stopping (with a checkpoint) after at most {@code maxStepsThisRun} steps; resume later with the same options. */
    public static VoxelNeRF train(NDManager manager, SceneDataset data, TeacherConfig cfg, Options opt, Path dir,
                                 boolean resume, long maxStepsThisRun, PrintStream log) {
        VoxelNeRF model = new VoxelNeRF(cfg);
        model.initialize(manager, opt.seed());
        long step = 0;
        Path ckpt = dir.resolve(FILE);
        Checkpoint.Loaded resumed = resume ? Checkpoint.resume(ckpt, manager, model, cfg, TeacherConfig.class) : null;
        if (resumed != null) {
            step = resumed.header().get("step").asLong();
            if (resumed.arrays().containsKey("state.occupancy")) model.restoreOccupancy(resumed.arrays().get("state.occupancy"));
            log.println("resumed teacher from step " + step);
        }
        Adam adam = new Adam(manager, model.parameters()); // after loading: it marks the current arrays as trainable
        if (resumed != null) adam.restore(resumed.arrays(), step);
        // all training rays in one flat set
        int per = data.width() * data.height();
        int n = data.train().size();
        float[] o = new float[n * per * 3], d = new float[n * per * 3], rgb = new float[n * per * 3];
        for (int v = 0; v < n; v++) {
            View view = data.train().get(v);
            Camera.Rays r = cfg.ndc() ? view.camera().ndcRays(1.0) : view.camera().rays();
            System.arraycopy(r.origins(), 0, o, v * per * 3, per * 3);
            System.arraycopy(r.directions(), 0, d, v * per * 3, per * 3);
            System.arraycopy(view.image().rgb(), 0, rgb, v * per * 3, per * 3);
        }
        Camera.Rays all = new Camera.Rays(o, d, n * per, 1);
        long stopAt = opt.steps() - step <= maxStepsThisRun ? opt.steps() : step + maxStepsThisRun;
        try (ProgressBar bar = new ProgressBar(log, "teacher", opt.steps(), step)) {
            double ema = Double.NaN;
            while (step < stopAt) {
                SplittableRandom rng = new SplittableRandom(opt.seed() * 0x9E3779B97F4A7C15L + step);
                int[] ids = new int[opt.batchRays()];
                float[] target = new float[ids.length * 3];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = rng.nextInt(n * per);
                    System.arraycopy(rgb, 3 * ids[i], target, 3 * i, 3);
                }
                VoxelNeRF.Samples s = model.sample(all, ids, rng);
                float loss;
                try (NDManager sub = manager.newSubManager();
                     GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray pred = model.render(sub, s);
                    NDArray l = pred.sub(sub.create(target, new Shape(ids.length, 3))).square().mean();
                    gc.backward(l);
                    loss = l.getFloat();
                }
                double decay = 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * step / opt.steps()));
                adam.step(k -> (k.equals("grid") ? opt.lrGrid() : opt.lrMlp()) * decay);
                step++;
                if (step >= opt.occupancyWarmup() && step % opt.occupancyEvery() == 0) model.updateOccupancy(OCCUPANCY_ALPHA);
                ema = Double.isNaN(ema) ? loss : 0.9 * ema + 0.1 * loss;
                if (step % opt.checkpointEvery() == 0 || step == stopAt) {
                    try (NDManager sub = manager.newSubManager()) {
                        Checkpoint.save(ckpt, header(cfg, opt, step), model, adam, new ai.djl.ndarray.NDList(model.occupancyState(sub)));
                    }
                }
                bar.step(step, String.format(Locale.ROOT, "loss %.5f  psnr %.2f  samples/ray %.1f  occupied %.3f",
                        ema, -10 * Math.log10(ema), s.count() / (double) ids.length, model.occupiedFraction()));
            }
        }
        if (step == opt.steps()) model.updateOccupancy(OCCUPANCY_ALPHA);
        return model;
    }

    /** Loads a trained teacher from {@code DIR/teacher.ckpt}. */
    public static VoxelNeRF load(NDManager manager, Path dir) {
        Path ckpt = Files.isDirectory(dir) ? dir.resolve(FILE) : dir;
        Checkpoint.Loaded l = Checkpoint.load(ckpt, manager);
        if (!"teacher".equals(l.header().path("kind").asText())) throw new IllegalArgumentException(ckpt + ": not a teacher checkpoint");
        TeacherConfig cfg = JSON.convertValue(l.header().get("config"), TeacherConfig.class);
        VoxelNeRF model = new VoxelNeRF(cfg);
        Checkpoint.loadWeights(ckpt, model, l.arrays());
        l.arrays().forEach((k, a) -> { if (Checkpoint.isState(k)) a.close(); });
        model.updateOccupancy(OCCUPANCY_ALPHA);
        return model;
    }
}
