package dev.edgegen.nelf.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Metrics;
import dev.edgegen.nelf.NelfModels;
import dev.edgegen.nelf.Poses;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nelf.scene.Mesh;
import dev.edgegen.nelf.scene.Rasterizer;
import dev.edgegen.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MobileR2LTest {
    @TempDir Path tmp;

    @Test
    void paperConfigHas312InputChannelsAndCleanKeys() {
        StudentConfig c = StudentConfig.paper(2, 6);
        assertEquals(312, c.inputChannels());
        assertEquals(8, c.totalUpscale());
        MobileR2L m = new MobileR2L(c);
        var keys = m.parameters().keySet();
        assertTrue(keys.contains("input.weight") && keys.contains("blocks.27.conv2.bias") && keys.contains("head.2.weight") && keys.contains("out.weight"), keys.toString());
        assertEquals(new Shape(256, 64, 4, 4), m.parameters().get("head.0.weight").shape());
        // 800x800 frame: 100x100 rays through 57 1x1 convs (312→256, 28·2 × 256→256) plus the head
        long body = 10_000L * 2 * (312 * 256 + 56L * 256 * 256);
        // head as executed: each 4x4 stride-2 transposed conv runs as a 3x3 conv to 4x the channels
        long head = 10_000L * 2 * 256 * 64 * 36 + 40_000L * 2 * 64 * 64 * 36 + 160_000L * 2 * 64 * 16 * 36 + 640_000L * 2 * 16 * 3 * 9;
        assertEquals(body + head, m.flopsPerFrame(800, 800));
    }

    @Test
    void rayEncodingMatchesPointsAlongTheRay() {
        StudentConfig c = new StudentConfig(4, 2, 8, 1, new int[] {4}, new int[] {2}, true, 2, 5, false);
        Camera cam = new Camera(4, 2, 3, Poses.spherical(20, 30, 4));
        float[] enc = RayEncoder.encodeRays(cam.resized(2, 1).rays(), c);
        assertEquals(3 * 4 * 5 * 2, enc.length);
        Camera.Rays r = cam.resized(2, 1).rays();
        int n = 2, p = 1, k = 2, a = 1;
        double t = 2 + 3.0 * k / 3;
        double v = r.origins()[3 * p + a] + t * r.directions()[3 * p + a];
        int base = (k * 3 + a) * 5;
        assertEquals(v, enc[base * n + p], 1e-5);
        assertEquals(Math.sin(2 * v), enc[(base + 3) * n + p], 1e-5);
        assertEquals(Math.cos(2 * v), enc[(base + 4) * n + p], 1e-5);
        assertThrows(IllegalArgumentException.class, () -> RayEncoder.encode(null, new Camera(5, 4, 3, Poses.spherical(0, 0, 3)), c));
    }

    /** Trains a student initialised with {@code initSeed} into {@code dir}; the run stops after step {@code stopAt}. */
    private static MobileR2L train(NDManager m, StudentConfig cfg, StudentTask.Options o, List<StudentTask.Target> pseudo,
                                   List<StudentTask.Target> real, Path dir, boolean resume, long initSeed, long stopAt) throws IOException {
        MobileR2L model = new MobileR2L(cfg);
        model.initialize(m, initSeed);
        StudentTask task = new StudentTask(model, o, pseudo, real);
        Trainer trainer = task.trainer(dir, m);
        trainer.run(task, resume, info -> { if (info.step() == stopAt) trainer.requestStop(); }, false);
        return model;
    }

    @Test
    void tinyStudentOverfitsTinySceneAndResumesExactly() throws IOException {
        Mesh mesh = Mesh.procedural(24);
        Rasterizer ras = new Rasterizer(mesh, 2);
        List<StudentTask.Target> views = new java.util.ArrayList<>();
        for (double[] pose : Poses.hemisphere(2, 4.0, 10, 60, 1)) {
            Camera cam = Camera.fromAngleX(32, 32, 0.69, pose);
            views.add(new StudentTask.Target(cam, ras.render(cam).image()));
        }
        List<StudentTask.Target> pseudo = views.subList(0, 1);
        StudentConfig cfg = new StudentConfig(8, 6, 48, 2, new int[] {16, 16, 8}, new int[] {2, 2, 2}, false, 2.5, 5.5, false);
        StudentTask.Options full = new StudentTask.Options(50, 100, 4e-3, 0, 100, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            MobileR2L a = train(m, cfg, full, pseudo, views, tmp.resolve("a"), false, 1, -1);
            RgbImage img = a.renderImage(m, views.get(0).camera());
            double psnr = Metrics.psnr(img, views.get(0).image());
            RgbImage white = new RgbImage(32, 32, new float[32 * 32 * 3]);
            java.util.Arrays.fill(white.rgb(), 1f);
            double base = Metrics.psnr(white, views.get(0).image());
            assertTrue(psnr > 20 && psnr > base + 6, "tiny student should overfit its training view: PSNR " + psnr + " vs white image " + base);

            // stopped at step 37 (distillation), resumed and stopped at 77 (fine-tuning), resumed to the end,
            // each time in a freshly initialised model: same weights as the uninterrupted run
            train(m, cfg, full, pseudo, views, tmp.resolve("b"), false, 1, 37);
            train(m, cfg, full, pseudo, views, tmp.resolve("b"), true, 7, 77);
            MobileR2L b = train(m, cfg, full, pseudo, views, tmp.resolve("b"), true, 8, -1);
            a.parameters().forEach((k, p) -> assertArrayEquals(p.get().toFloatArray(), b.parameters().get(k).get().toFloatArray(), 0f, k));

            MobileR2L loaded = NelfModels.student(m, tmp.resolve("a"));
            RgbImage again = loaded.renderImage(m, views.get(0).camera());
            assertEquals(psnr, Metrics.psnr(again, views.get(0).image()), 1e-4);

            StudentConfig other = new StudentConfig(8, 6, 32, 2, new int[] {16, 16, 8}, new int[] {2, 2, 2}, false, 2.5, 5.5, false);
            var e = assertThrows(IllegalArgumentException.class, () -> train(m, other, full, pseudo, views, tmp.resolve("a"), true, 1, -1));
            assertTrue(e.getMessage().contains("task.model.width: 48 in the checkpoint, 32 now"), e.getMessage());
            StudentTask.Options longer = new StudentTask.Options(60, 100, 4e-3, 0, 100, 1);
            e = assertThrows(IllegalArgumentException.class, () -> train(m, cfg, longer, pseudo, views, tmp.resolve("a"), true, 1, -1));
            assertTrue(e.getMessage().contains("task.distillSteps: 50 in the checkpoint, 60 now"), e.getMessage());
        }
    }
}
