package dev.edgegen.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.edgegen.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NelfCommandTest {
    @TempDir Path tmp;

    static int run(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "nelf";
        System.arraycopy(args, 0, all, 1, args.length);
        return Main.run(all);
    }

    static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void sceneTeacherDistillEvalRenderEndToEnd() throws Exception {
        Path scene = tmp.resolve("blob");
        assertEquals(0, run("scene", "--mesh", "blob", "-o", scene.toString(), "-W", "32", "-H", "32",
                "--train", "6", "--val", "1", "--test", "2", "--supersample", "1"));
        assertEquals(2, run("scene", "--mesh", "blob", "-o", scene.toString()), "existing output folder must be refused");

        Path teacher = tmp.resolve("teacher");
        assertEquals(0, run("teacher", "--data", scene.toString(), "-o", teacher.toString(), "--steps", "20",
                "--batch-rays", "256", "--grid", "16", "--features", "4", "--checkpoint-every", "10"));
        JsonNode tj = new ObjectMapper().readTree(teacher.resolve("teacher.json").toFile());
        assertEquals(2, tj.get("views").size());
        assertTrue(tj.get("psnr_mean").asDouble() > 5);

        Path student = tmp.resolve("student");
        assertEquals(0, run("distill", "--teacher", teacher.toString(), "-o", student.toString(), "--pseudo", "3",
                "--preset", "tiny", "--distill-steps", "6", "--finetune-steps", "4", "--checkpoint-every", "5"));
        assertEquals(3, Files.list(student.resolve("pseudo")).filter(p -> p.toString().endsWith(".png")).count());
        assertEquals(2, run("distill", "--teacher", teacher.toString(), "-o", student.toString(), "--preset", "tiny"),
                "an existing checkpoint without --resume must be refused");
        assertNotEquals(0, run("distill", "--teacher", teacher.toString(), "-o", student.toString(), "--preset", "fast",
                "--pseudo", "3", "--distill-steps", "6", "--finetune-steps", "4", "--resume"), "a checkpoint of another config must be refused");

        // the same run stopped after 4 steps and resumed ends with the same weights, and only then reports
        Path student2 = tmp.resolve("student2");
        String[] distill2 = {"distill", "--teacher", teacher.toString(), "-o", student2.toString(), "--pseudo", "3",
                "--preset", "tiny", "--distill-steps", "6", "--finetune-steps", "4", "--checkpoint-every", "5"};
        assertEquals(0, run(concat(distill2, "--max-steps-this-run", "4")));
        assertTrue(Files.notExists(student2.resolve("student.json")));
        assertEquals(0, run(concat(distill2, "--resume")));
        assertTrue(Files.exists(student2.resolve("student.json")));
        try (NDManager m = NDManager.newBaseManager()) {
            var a = Checkpoint.load(student.resolve("checkpoint.safetensors"), m).model();
            var b = Checkpoint.load(student2.resolve("checkpoint.safetensors"), m).model();
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), 0f, k);
        }

        Path report = tmp.resolve("eval.json");
        assertEquals(0, run("eval", "--model", student.toString(), "--teacher", teacher.toString(), "-o", report.toString(),
                "--images", tmp.resolve("img").toString(), "--side-by-side", "1"));
        JsonNode ej = new ObjectMapper().readTree(report.toFile());
        assertEquals(2, ej.get("views").size());
        assertTrue(ej.has("teacher_psnr_mean") && ej.has("student_ssim_mean"));
        var side = ImageIO.read(tmp.resolve("img/blob_test_0.png").toFile());
        assertEquals(96, side.getWidth()); // ground truth | teacher | student

        Path gif = tmp.resolve("orbit.gif");
        assertEquals(0, run("render", "--model", student.toString(), "--orbit", "--frames", "3", "-W", "16", "-H", "16", "-o", gif.toString()));
        try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
            ImageReader r = ImageIO.getImageReadersByFormatName("gif").next();
            r.setInput(in);
            assertEquals(3, r.getNumImages(true));
        }
        assertEquals(2, run("render", "--model", student.toString(), "--pose", "1 0 0 0 0 2 0 0 0 0 1 4 0 0 0 1", "-o", tmp.resolve("x.png").toString()),
                "a non-rigid pose must be refused");
        assertTrue(Files.notExists(tmp.resolve("x.png")));
        assertEquals(0, run("render", "--model", teacher.toString(), "--pose", "1 0 0 0 0 1 0 0 0 0 1 4 0 0 0 1", "-o", tmp.resolve("t.png").toString()));
        assertEquals(400, ImageIO.read(tmp.resolve("t.png").toFile()).getWidth());

        Path old = Files.createDirectories(tmp.resolve("old"));
        Files.write(old.resolve("teacher.ckpt"), new byte[] {1});
        assertEquals(2, run("render", "--model", old.toString(), "--orbit", "--frames", "1", "-o", tmp.resolve("o.gif").toString()),
                "a model folder of the old format must be refused by name");
    }
}
