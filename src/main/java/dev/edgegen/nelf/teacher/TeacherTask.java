package dev.edgegen.nelf.teacher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.View;
import dev.edgegen.train.Trainer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Trains a {@link VoxelNeRF} on the training views only, as a {@link Trainer.Task}: each step takes
 * {@code batchRays} random rays from all training views (drawn from the step's rng) and returns the
 * MSE of their rendered colour. The grid and the MLP have their own learning rates: the trainer's
 * lr is the grid's, the MLP's is a {@link #lrScale} of it. Occupancy: before step s, for s ≥
 * {@code occupancyWarmup} and s a multiple of {@code occupancyEvery}, the occupancy grid is
 * recomputed from the current weights; it is saved in checkpoints ({@code task.occupancy}) so a
 * resumed run samples the same points.
 */
public final class TeacherTask implements Trainer.Task {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LOG_EVERY = 10;

    /** Steps, rays per step, grid and MLP learning rates, checkpoint interval, occupancy refresh interval and warm-up, seed. */
    public record Options(int steps, int batchRays, double lrGrid, double lrMlp, int checkpointEvery,
                          int occupancyEvery, int occupancyWarmup, long seed) {
        public Options {
            if (steps < 1 || batchRays < 1) throw new IllegalArgumentException("steps and batch rays must be >= 1");
            if (checkpointEvery < 1 || occupancyEvery < 1) throw new IllegalArgumentException("checkpoint and occupancy intervals must be >= 1");
            if (!(lrGrid > 0) || !(lrMlp > 0)) throw new IllegalArgumentException("learning rates must be > 0, got " + lrGrid + " and " + lrMlp);
        }

        public static Options defaults() {
            return new Options(3000, 4096, 0.1, 2e-3, 500, 25, 50, 0);
        }

        /**
         * The shared trainer's settings: Adam (β 0.9 / 0.999, ε 1e-8) without weight decay, no warm-up,
         * cosine decay to 10% of the peak, no gradient clipping and no EMA (the occupancy grid and the
         * saved model are the trained weights themselves).
         */
        public Trainer.Options trainer() {
            return new Trainer.Options(steps, lrGrid, 0, 0.1, 0.9, 0.999, 1e-8, 0, 0, 0, checkpointEvery, LOG_EVERY, seed);
        }
    }

    private final VoxelNeRF model;
    private final Options options;
    private final Camera.Rays rays;  // every training ray: (N·H·W) origins and directions
    private final float[] rgb;       // (N·H·W·3) their pixels
    private final ObjectNode config;
    private double samplesPerRay;

    /** {@code model} must be initialised; its config decides NDC rays. */
    public TeacherTask(VoxelNeRF model, SceneDataset data, Options options) {
        this.model = model;
        this.options = options;
        int per = data.width() * data.height();
        int n = data.train().size();
        float[] o = new float[n * per * 3], d = new float[n * per * 3];
        rgb = new float[n * per * 3];
        for (int v = 0; v < n; v++) {
            View view = data.train().get(v);
            Camera.Rays r = model.config.ndc() ? view.camera().ndcRays(1.0) : view.camera().rays();
            System.arraycopy(r.origins(), 0, o, v * per * 3, per * 3);
            System.arraycopy(r.directions(), 0, d, v * per * 3, per * 3);
            System.arraycopy(view.image().rgb(), 0, rgb, v * per * 3, per * 3);
        }
        rays = new Camera.Rays(o, d, n * per, 1);
        config = JSON.createObjectNode();
        config.put("kind", "teacher");
        config.set("model", JSON.valueToTree(model.config));
        config.put("trainViews", n).put("width", data.width()).put("height", data.height());
        config.put("batchRays", options.batchRays()).put("lrMlp", options.lrMlp())
                .put("occupancyEvery", options.occupancyEvery()).put("occupancyWarmup", options.occupancyWarmup());
    }

    /** The model/data config stored with checkpoints (a resume with another one is refused). */
    public JsonNode config() { return config; }

    /** A trainer for this task writing to {@code runDir}; the model's arrays must belong to {@code manager}. */
    public Trainer trainer(Path runDir, NDManager manager) {
        return new Trainer(model, options.trainer(), config, runDir, manager);
    }

    @Override
    public NDArray loss(NDManager scope, long step, Random rng) {
        if (step > 0 && step >= options.occupancyWarmup() && step % options.occupancyEvery() == 0) {
            model.updateOccupancy(VoxelNeRF.OCCUPANCY_ALPHA);
        }
        SplittableRandom r = new SplittableRandom(rng.nextLong());
        int[] ids = new int[options.batchRays()];
        float[] target = new float[ids.length * 3];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(rgb.length / 3);
            System.arraycopy(rgb, 3 * ids[i], target, 3 * i, 3);
        }
        VoxelNeRF.Samples s = model.sample(rays, ids, r);
        samplesPerRay = s.count() / (double) ids.length;
        NDArray pred = model.render(scope, s);                                       // (B, 3)
        return pred.sub(scope.create(target, new Shape(ids.length, 3))).square().mean();
    }

    @Override
    public double lrScale(String name) {
        return name.equals("grid") ? 1 : options.lrMlp() / options.lrGrid();
    }

    @Override
    public Map<String, NDArray> state(NDManager manager) {
        return Map.of("occupancy", model.occupancyState(manager));
    }

    @Override
    public void loadState(Map<String, NDArray> state) {
        NDArray occupancy = state.get("occupancy");
        if (occupancy == null) throw new IllegalArgumentException("the checkpoint lacks the teacher's occupancy grid (task.occupancy)");
        model.restoreOccupancy(occupancy);
    }

    /** Samples per ray of the last step and the occupied fraction of the grid, for a progress line. */
    public String status() {
        return String.format(Locale.ROOT, "samples/ray %.1f  occupied %.3f", samplesPerRay, model.occupiedFraction());
    }
}
