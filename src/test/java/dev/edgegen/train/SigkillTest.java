package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real SIGKILL of a training process, mid-run, checkpointing every step: the resume is exact. */
class SigkillTest {
    static Trainer.Options options() {
        return new Trainer.Options(4000, 1e-2, 10, 0.1, 0.9, 0.999, 1e-8, 0.01, 1.0, 0.9, 1, 1, 7);
    }

    @Test
    void killedRunResumesToTheSameWeights(@TempDir Path dir) throws Exception {
        Path killed = dir.resolve("killed");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                KillableRun.class.getName(), killed.toString()).redirectErrorStream(true);
        Process p = pb.start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null && !line.contains("STARTED")) { /* wait for training to run */ }
        Thread.sleep(300 + (long) (Math.random() * 400));
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");

        try (NDManager m = NDManager.newBaseManager()) {
            Checkpoint c = Checkpoint.load(killed.resolve("checkpoint.safetensors"), m); // never torn
            long at = c.step();
            assertTrue(at >= 3 && at < 4000, "killed at step " + at);
            // Resume to a few steps past the kill (same config: the schedule depends on the total steps)
            // and compare with an uninterrupted run stopped at the same step.
            long target = at + 5;
            Trainer.Options o = options();
            TinyMlp resumed = new TinyMlp();
            resumed.initialize(m, 0.5f, 2);
            Trainer t = new Trainer(resumed, o, new ObjectMapper().createObjectNode(), killed, m);
            t.run(new TrainerTest.RegressionTask(resumed), true, info -> { if (info.step() == target) t.requestStop(); }, false);
            TinyMlp straight = new TinyMlp();
            straight.initialize(m, 0.5f, 1);
            Trainer s = new Trainer(straight, o, new ObjectMapper().createObjectNode(), dir.resolve("straight"), m);
            s.run(new TrainerTest.RegressionTask(straight), false, info -> { if (info.step() == target) s.requestStop(); }, false);
            Map<String, float[]> a = TrainerTest.weights(straight), b = TrainerTest.weights(resumed);
            for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), 0f, k);
            assertTrue(new File(killed.toFile(), "log.jsonl").length() > 0);
        }
    }
}
