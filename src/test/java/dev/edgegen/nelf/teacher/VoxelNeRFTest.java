package dev.edgegen.nelf.teacher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Metrics;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nelf.scene.Mesh;
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.SceneWriter;
import java.io.PrintStream;
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

    @Test
    void tinyTeacherFitsTinySceneAndResumesExactly() {
        Path dir = tmp.resolve("scene");
        SceneWriter.write(Mesh.procedural(24), new SceneWriter.Options(8, 0, 1, 24, 24, 2, 4.0, 0.69, 3), dir, i -> { });
        SceneDataset data = SceneDataset.load(dir);
        TeacherConfig cfg = new TeacherConfig(16, 6, 16, 1, 1.1, 1.0, data.near(), data.far(), false);
        PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
        try (NDManager m = NDManager.newBaseManager()) {
            TeacherTrainer.Options full = new TeacherTrainer.Options(60, 512, 0.1f, 3e-3f, 30, 10, 20, 5);
            VoxelNeRF a = TeacherTrainer.train(m, data, cfg, full, tmp.resolve("a"), false, quiet);
            RgbImage img = a.renderImage(m, data.train().get(0).camera(), 4096);
            double psnr = Metrics.psnr(img, data.train().get(0).image());
            RgbImage white = new RgbImage(24, 24, new float[24 * 24 * 3]);
            java.util.Arrays.fill(white.rgb(), 1f);
            double base = Metrics.psnr(white, data.train().get(0).image());
            assertTrue(psnr > base + 4, "teacher should fit a training view: PSNR " + psnr + " vs white image " + base);

            // stop at 35 (checkpoint), resume to 60: same weights as the uninterrupted run
            TeacherTrainer.train(m, data, cfg, full, tmp.resolve("b"), false, 35, quiet);
            VoxelNeRF b = TeacherTrainer.train(m, data, cfg, full, tmp.resolve("b"), true, quiet);
            float[] ga = a.grid.get().toFloatArray(), gb = b.grid.get().toFloatArray();
            double maxDiff = 0;
            for (int i = 0; i < ga.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ga[i] - gb[i]));
            assertTrue(maxDiff < 1e-4, "resumed run diverged from the uninterrupted one by " + maxDiff);

            TeacherConfig other = new TeacherConfig(12, 6, 16, 1, 1.1, 1.0, data.near(), data.far(), false);
            var e = assertThrows(IllegalArgumentException.class, () -> TeacherTrainer.train(m, data, other, full, tmp.resolve("b"), true, quiet));
            assertTrue(e.getMessage().contains("checkpoint was trained with"), e.getMessage());
        }
    }
}
