package dev.edgegen.nelf.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Metrics;
import dev.edgegen.nelf.NelfModels;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nelf.scene.Mesh;
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.SceneWriter;
import dev.edgegen.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VoxelNeRFTest {
    @TempDir Path tmp;

    @Test
    void compositingMatchesPlainReference() {
        TeacherConfig cfg = new TeacherConfig(6, 4, 8, 1, 1.0, 0.7, 0.5, 5.0, false);
        try (NDManager m = NDManager.newBaseManager()) {
            VoxelNeRF model = new VoxelNeRF(cfg);
            model.initialize(m, 3);
            SplittableRandom r = new SplittableRandom(1);
            float[] g = new float[6 * 6 * 6 * 5];
            for (int i = 0; i < g.length; i++) g[i] = (float) (r.nextDouble() * 8 - 2);
            model.grid.set(m.create(g, model.grid.shape()));
            Camera.Rays rays = new Camera.Rays(new float[] {0, 0, 3, 0.3f, -0.2f, 3, 5, 5, 5},
                    new float[] {0, 0, -1, 0, 0.1f, -1, 0, 0, 1}, 3, 1);
            VoxelNeRF.Samples s = model.sample(rays, new int[] {0, 1, 2}, null);
            assertEquals(s.start()[2], s.start()[3], "third ray misses the box");
            float[] got = model.render(m, s).toFloatArray();
            // reference: per-sample sigma and colour from the same network, composited with plain loops
            for (int q = 0; q < 3; q++) {
                double t = 1, acc = 0;
                double[] c = new double[3];
                for (int i = s.start()[q]; i < s.start()[q + 1]; i++) {
                    VoxelNeRF.Samples one = new VoxelNeRF.Samples(1, new int[] {0, 1},
                            java.util.Arrays.copyOfRange(s.corners(), 8 * i, 8 * i + 8), java.util.Arrays.copyOfRange(s.weights(), 8 * i, 8 * i + 8),
                            new float[] {1e6f}, java.util.Arrays.copyOfRange(s.view(), i * cfg.viewChannels(), (i + 1) * cfg.viewChannels()));
                    // with a huge delta the sample is opaque and the ray's colour is the sample's colour
                    float[] tiny = model.render(m, one).toFloatArray();
                    double raw = 0;
                    for (int k = 0; k < 8; k++) raw += s.weights()[8 * i + k] * g[(int) s.corners()[8 * i + k] * 5];
                    double sigma = Math.log1p(Math.exp(raw - 4));
                    double alpha = 1 - Math.exp(-sigma * s.delta()[i]);
                    for (int ch = 0; ch < 3; ch++) c[ch] += t * alpha * tiny[ch];
                    acc += t * alpha;
                    t *= 1 - alpha;
                }
                for (int ch = 0; ch < 3; ch++) assertEquals(c[ch] + 1 - acc, got[3 * q + ch], 2e-3, "ray " + q + " channel " + ch);
            }
            assertEquals(1f, got[6], 1e-6);
        }
    }

    /** Trains a teacher initialised with {@code initSeed} into {@code dir}; {@code listener} may stop or crash the run. */
    private static VoxelNeRF train(NDManager m, SceneDataset data, TeacherConfig cfg, TeacherTask.Options o, Path dir, boolean resume,
                                   long initSeed, Trainer.Listener listener) throws IOException {
        VoxelNeRF model = new VoxelNeRF(cfg);
        model.initialize(m, initSeed);
        TeacherTask task = new TeacherTask(model, data, o);
        task.trainer(dir, m).run(task, resume, listener, false);
        return model;
    }

    private static void assertSameWeights(VoxelNeRF a, VoxelNeRF b) {
        a.parameters().forEach((k, p) -> assertArrayEquals(p.get().toFloatArray(), b.parameters().get(k).get().toFloatArray(), 0f, k));
    }

    @Test
    void tinyTeacherFitsTinySceneAndResumesExactly() throws IOException {
        Path dir = tmp.resolve("scene");
        SceneWriter.write(Mesh.procedural(24), new SceneWriter.Options(8, 0, 1, 24, 24, 2, 4.0, 0.69, 3), dir, i -> { });
        SceneDataset data = SceneDataset.load(dir);
        TeacherConfig cfg = new TeacherConfig(16, 6, 16, 1, 1.1, 1.0, data.near(), data.far(), false);
        // occupancy refreshed before steps 20, 30, 40, 50; checkpoints at 25 and 50
        TeacherTask.Options full = new TeacherTask.Options(60, 512, 0.1, 3e-3, 25, 10, 20, 5);
        try (NDManager m = NDManager.newBaseManager()) {
            VoxelNeRF a = train(m, data, cfg, full, tmp.resolve("a"), false, 5, null);
            a.updateOccupancy(VoxelNeRF.OCCUPANCY_ALPHA);
            RgbImage img = a.renderImage(m, data.train().get(0).camera(), 4096);
            double psnr = Metrics.psnr(img, data.train().get(0).image());
            RgbImage white = new RgbImage(24, 24, new float[24 * 24 * 3]);
            java.util.Arrays.fill(white.rgb(), 1f);
            double base = Metrics.psnr(white, data.train().get(0).image());
            assertTrue(psnr > base + 4, "teacher should fit a training view: PSNR " + psnr + " vs white image " + base);
            assertTrue(Files.size(tmp.resolve("a/log.jsonl")) > 0 && Files.exists(tmp.resolve("a/loss.png")));

            // killed at step 33: the checkpoint at 25 holds the occupancy computed before step 20, which the
            // steps up to 30 sample with; a fresh model resumed from it ends with the same weights
            RuntimeException kill = assertThrows(RuntimeException.class, () -> train(m, data, cfg, full, tmp.resolve("b"), false, 5,
                    info -> { if (info.step() == 33) throw new RuntimeException("simulated kill"); }));
            assertEquals("simulated kill", kill.getMessage());
            VoxelNeRF b = train(m, data, cfg, full, tmp.resolve("b"), true, 99, null);
            assertSameWeights(a, b);

            // the model folder loads with the trained weights and renders the same image
            VoxelNeRF loaded = NelfModels.teacher(m, tmp.resolve("a"));
            assertSameWeights(a, loaded);
            assertArrayEquals(img.rgb(), loaded.renderImage(m, data.train().get(0).camera(), 4096).rgb(), 0f);

            TeacherConfig other = new TeacherConfig(12, 6, 16, 1, 1.1, 1.0, data.near(), data.far(), false);
            var e = assertThrows(IllegalArgumentException.class, () -> train(m, data, other, full, tmp.resolve("b"), true, 5, null));
            assertTrue(e.getMessage().contains("task.model.grid: 16 in the checkpoint, 12 now"), e.getMessage());
        }
    }
}
