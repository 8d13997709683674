package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Regression of a fixed random target on a 64-sample set, batches of 8 in a seeded epoch order, plus input noise from the step RNG. */
    static final class RegressionTask implements Trainer.Task {
        final TinyMlp model;
        final float[][] xs = new float[64][4];
        final float[][] ys = new float[64][2];
        long position;
        float nanAtStep = -1;
        java.util.Set<Long> nanGradientAtSteps = java.util.Set.of();   // a finite loss whose gradients are NaN

        RegressionTask(TinyMlp model) {
            this.model = model;
            Random r = new Random(7);
            for (int i = 0; i < 64; i++) {
                for (int j = 0; j < 4; j++) xs[i][j] = (float) r.nextGaussian();
                ys[i][0] = xs[i][0] * xs[i][1];
                ys[i][1] = (float) Math.sin(xs[i][2]) + xs[i][3];
            }
        }

        @Override
        public NDArray loss(NDManager scope, long step, Random rng) {
            long epoch = position / 64;
            int[] order = new int[64];
            for (int i = 0; i < 64; i++) order[i] = i;
            Random shuffle = new Random(1000 + epoch);
            for (int i = 63; i > 0; i--) { int j = shuffle.nextInt(i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
            float[] x = new float[8 * 4];
            float[] y = new float[8 * 2];
            for (int k = 0; k < 8; k++) {
                int idx = order[(int) ((position + k) % 64)];
                for (int j = 0; j < 4; j++) x[k * 4 + j] = xs[idx][j] + 0.01f * (float) rng.nextGaussian();
                y[k * 2] = ys[idx][0];
                y[k * 2 + 1] = ys[idx][1];
            }
            position += 8;
            NDArray out = model.forward(scope.create(x, new Shape(8, 4)));
            NDArray loss = out.sub(scope.create(y, new Shape(8, 2))).square().mean();
            if (nanGradientAtSteps.contains(step)) loss = loss.add(out.mean().mul(0f).sqrt());   // + 0, gradient 0 · ∞ = NaN
            return step == nanAtStep ? loss.mul(Float.NaN) : loss;
        }

        @Override
        public long dataPosition() { return position; }

        @Override
        public void seekData(long p) { position = p; }
    }

    static Trainer.Options options(long steps, long ckptEvery) {
        return new Trainer.Options(steps, 3e-2, 2, 0.1, 0.9, 0.999, 1e-8, 0.01, 1.0, 0.9, ckptEvery, 1, 42);
    }

    static ObjectNode taskConfig(int hidden) {
        return JSON.createObjectNode().put("model", "tiny-mlp").put("hidden", hidden);
    }

    static Map<String, float[]> snapshot(Map<String, NDArray> m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    static Map<String, float[]> weights(TinyMlp model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.parameters().forEach((k, p) -> out.put(k, p.get().toFloatArray()));
        return out;
    }

    @Test
    void resumeAfterCrashGivesBitIdenticalWeights(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp straight = new TinyMlp();
            straight.initialize(manager, 0.5f, 1);
            Trainer.Result r = new Trainer(straight, options(12, 4), taskConfig(8), dir.resolve("a"), manager)
                    .run(new RegressionTask(straight), false, null, false);
            assertEquals(12, r.stepsDone());
            Map<String, float[]> expected = weights(straight);
            Map<String, float[]> expectedEma;
            try (NDManager m2 = manager.newSubManager()) {
                expectedEma = snapshot(Checkpoint.load(dir.resolve("a/checkpoint.safetensors"), m2).ema());
            }

            // Run B crashes after step 6: the last checkpoint is at step 4.
            TinyMlp crashed = new TinyMlp();
            crashed.initialize(manager, 0.5f, 1);
            Trainer tb = new Trainer(crashed, options(12, 4), taskConfig(8), dir.resolve("b"), manager);
            RuntimeException crash = assertThrows(RuntimeException.class, () -> tb.run(new RegressionTask(crashed), false, info -> {
                if (info.step() == 6) throw new RuntimeException("simulated kill");
            }, false));
            assertEquals("simulated kill", crash.getMessage());

            // A fresh process: differently initialised model, resumed from the run directory.
            TinyMlp resumed = new TinyMlp();
            resumed.initialize(manager, 0.5f, 99);
            Trainer.Result rb = new Trainer(resumed, options(12, 4), taskConfig(8), dir.resolve("b"), manager)
                    .run(new RegressionTask(resumed), true, null, false);
            assertEquals(12, rb.stepsDone());
            Map<String, float[]> got = weights(resumed);
            for (String k : expected.keySet()) assertArrayEquals(expected.get(k), got.get(k), 0f, k);
            try (NDManager m2 = manager.newSubManager()) {
                Map<String, float[]> gotEma = snapshot(Checkpoint.load(dir.resolve("b/checkpoint.safetensors"), m2).ema());
                for (String k : expectedEma.keySet()) assertArrayEquals(expectedEma.get(k), gotEma.get(k), 0f, "ema " + k);
            }
            assertEquals(r.lastLoss(), rb.lastLoss());
            // The log holds each step exactly once (lines of the crashed steps 5, 6 were dropped on resume).
            List<String> lines = Files.readAllLines(dir.resolve("b/log.jsonl"));
            assertEquals(12, lines.size());
            for (int i = 0; i < 12; i++) assertEquals(i + 1, JSON.readTree(lines.get(i)).get("step").asLong());
            assertTrue(Files.size(dir.resolve("b/loss.png")) > 1000);
            assertTrue(r.lastLoss() < JSON.readTree(Files.readAllLines(dir.resolve("a/log.jsonl")).get(0)).get("loss").asDouble(),
                    "training reduced the loss");
        }
    }

    @Test
    void resumeRefusesADifferentConfigNamingTheField(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp m = new TinyMlp();
            m.initialize(manager, 0.5f, 1);
            new Trainer(m, options(2, 1), taskConfig(8), dir, manager).run(new RegressionTask(m), false, null, false);
            String savedConfig = Files.readString(dir.resolve("config.json"));
            Trainer.Options changed = new Trainer.Options(2, 1e-3, 2, 0.1, 0.9, 0.999, 1e-8, 0.01, 1.0, 0.9, 5, 3, 42);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(m, changed, taskConfig(16), dir, manager).run(new RegressionTask(m), true, null, false));
            assertTrue(e.getMessage().contains("trainer.lr: 0.03 in the checkpoint, 0.001 now"), e.getMessage());
            assertTrue(e.getMessage().contains("task.hidden: 8 in the checkpoint, 16 now"), e.getMessage());
            assertFalse(e.getMessage().contains("checkpointEvery"), "interval changes are allowed");
            assertEquals(savedConfig, Files.readString(dir.resolve("config.json")), "a refused resume leaves config.json as it was");
            IOException exists = assertThrows(IOException.class,
                    () -> new Trainer(m, options(2, 1), taskConfig(8), dir, manager).run(new RegressionTask(m), false, null, false));
            assertTrue(exists.getMessage().contains("--resume"), exists.getMessage());
            Trainer.Options twoWorkers = withWorkers(options(2, 1), 2);
            IllegalArgumentException workers = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(m, twoWorkers, taskConfig(8), dir, manager).run(new RegressionTask(m), true, null, false));
            assertTrue(workers.getMessage().contains("trainer.workers: absent in the checkpoint, 2 now"), workers.getMessage());
        }
    }

    private static Trainer.Options withWorkers(Trainer.Options o, int workers) {
        return new Trainer.Options(o.steps(), o.lr(), o.warmupSteps(), o.minLrRatio(), o.beta1(), o.beta2(), o.eps(),
                o.weightDecay(), o.clipNorm(), o.emaDecay(), o.checkpointEvery(), o.logEvery(), o.seed(), o.precision(), workers);
    }

    @Test
    void aTaskThatCannotSplitRefusesWorkers(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp m = new TinyMlp();
            m.initialize(manager, 0.5f, 1);
            Trainer.Options twoWorkers = withWorkers(options(2, 1), 2);
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> new Trainer(m, twoWorkers, taskConfig(8), dir, manager).run(new RegressionTask(m), false, null, false));
            assertTrue(e.getMessage().contains("set trainer.workers to 1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> withWorkers(options(2, 1), 0));
        }
    }

    @Test
    void nanLossStopsNamingStepAndLastCheckpoint(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp m = new TinyMlp();
            m.initialize(manager, 0.5f, 1);
            RegressionTask task = new RegressionTask(m);
            task.nanAtStep = 5;
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                    () -> new Trainer(m, options(10, 2), taskConfig(8), dir, manager).run(task, false, null, false));
            assertEquals(5, e.step());
            assertTrue(e.getMessage().contains("at step 5"), e.getMessage());
            assertTrue(e.getMessage().contains("checkpoint.safetensors (step 4)"), e.getMessage());
            try (NDManager m2 = manager.newSubManager()) {
                assertEquals(4, Checkpoint.load(dir.resolve("checkpoint.safetensors"), m2).step());
            }
        }
    }

    @Test
    void aStepWithNonFiniteGradientsIsSkippedAndThreeInARowStop(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp m = new TinyMlp();
            m.initialize(manager, 0.5f, 1);
            RegressionTask task = new RegressionTask(m);
            task.nanGradientAtSteps = java.util.Set.of(5L, 8L, 9L);
            Trainer.Result r = new Trainer(m, options(12, 100), taskConfig(8), dir.resolve("skip"), manager).run(task, false, null, false);
            assertEquals(12, r.stepsDone());
            assertTrue(Double.isFinite(r.lastLoss()));
            for (var p : m.parameters().values()) assertFalse(p.get().isNaN().any().getBoolean(), "no NaN reached the weights");
            try (NDManager m2 = manager.newSubManager()) {
                assertEquals(9, Checkpoint.load(r.checkpoint(), m2).optimizerSteps(), "12 steps, 3 updates skipped");
            }
            String log = Files.readString(dir.resolve("skip/log.jsonl"));
            assertEquals(3, log.split("\"skipped_steps\":1").length - 1, "one line per step, three skipped: " + log);
            assertEquals(3, log.split("\"grad_norm\":null").length - 1, log);

            RegressionTask bad = new RegressionTask(m);
            bad.nanGradientAtSteps = java.util.Set.of(4L, 5L, 6L);
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                    () -> new Trainer(m, options(12, 100), taskConfig(8), dir.resolve("stop"), manager).run(bad, false, null, false));
            assertEquals(6, e.step());
            assertTrue(e.getMessage().contains("3 steps in a row"), e.getMessage());
        }
    }

    @Test
    void stopRequestWritesACheckpointAndReturns(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp m = new TinyMlp();
            m.initialize(manager, 0.5f, 1);
            Trainer t = new Trainer(m, options(10, 100), taskConfig(8), dir, manager);
            Trainer.Result r = t.run(new RegressionTask(m), false, info -> { if (info.step() == 3) t.requestStop(); }, true);
            assertTrue(r.stopped());
            assertEquals(3, r.stepsDone());
            try (NDManager m2 = manager.newSubManager()) {
                Checkpoint c = Checkpoint.load(r.checkpoint(), m2);
                assertEquals(3, c.step());
                assertEquals(24, c.dataPosition());
                assertEquals(3, c.optimizerSteps());
            }
        }
    }

    @Test
    void lrScaleReachesTheOptimizerAndTaskStateTheCheckpoint(@TempDir Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            TinyMlp m = new TinyMlp();
            m.initialize(manager, 0.5f, 1);
            float[] a0 = m.parameters().get("a.weight").get().toFloatArray();
            float[] b0 = m.parameters().get("b.weight").get().toFloatArray();
            RegressionTask inner = new RegressionTask(m);
            float[][] restored = new float[1][];
            Trainer.Task task = new Trainer.Task() {
                @Override public NDArray loss(NDManager scope, long step, Random rng) { return inner.loss(scope, step, rng); }
                @Override public long dataPosition() { return inner.dataPosition(); }
                @Override public double lrScale(String name) { return name.startsWith("a.") ? 0 : 1; }
                @Override public Map<String, NDArray> state(NDManager s) { return Map.of("seen", s.create(new float[] {inner.position})); }
                @Override public void loadState(Map<String, NDArray> state) { restored[0] = state.get("seen").toFloatArray(); }
            };
            new Trainer(m, options(3, 100), taskConfig(8), dir, manager).run(task, false, null, false);
            assertArrayEquals(a0, m.parameters().get("a.weight").get().toFloatArray(), 0f, "lr scale 0 keeps a.weight");
            assertFalse(java.util.Arrays.equals(b0, m.parameters().get("b.weight").get().toFloatArray()), "b.weight trains");
            try (NDManager m2 = manager.newSubManager()) {
                assertArrayEquals(new float[] {24}, Checkpoint.load(dir.resolve("checkpoint.safetensors"), m2).task().get("seen").toFloatArray(), 0f);
            }
            new Trainer(m, options(3, 100), taskConfig(8), dir, manager).run(task, true, null, false);
            assertArrayEquals(new float[] {24}, restored[0], 0f, "resume hands the saved state back to the task");
        }
    }
}
