package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgegen.data.Batch;
import dev.edgegen.data.DataLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainConfigTest {
    static String message(Path dir, String json) throws IOException {
        Path f = dir.resolve("c.json");
        Files.writeString(f, json);
        return assertThrows(IllegalArgumentException.class, () -> TrainConfig.read(f)).getMessage();
    }

    @Test
    void readsDefaultsAndResolvesPaths(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("ae.json");
        Files.writeString(f, "{\"stage\": \"autoencoder\", \"output\": \"runs/ae\", \"seed\": 3,"
                + " \"data\": {\"emoji_weight\": 0, \"batch_size\": 4},"
                + " \"trainer\": {\"steps\": 100, \"lr\": 0.0002, \"checkpoint_every\": 50}}");
        TrainConfig c = TrainConfig.read(f);
        assertEquals("autoencoder", c.stage());
        assertEquals(dir.resolve("runs/ae"), c.output());
        assertEquals(100, c.trainer().steps());
        assertEquals(2e-4, c.trainer().lr());
        assertEquals(5, c.trainer().warmupSteps());
        assertEquals(3, c.trainer().seed());
        assertEquals(DiffusionTask.Prediction.EPSILON, c.diffusion().prediction());
        assertEquals(0.1, c.diffusion().cfgDropout());
        assertEquals(1e-6, c.loss().klWeight());
        assertEquals(1.0, c.loss().posteriorNoise());
        assertFalse(c.raw().has("output"));
        assertFalse(c.raw().path("trainer").has("checkpoint_every"));
        try (DataLoader loader = c.data().loader(c.seed(), System.out)) {
            Batch b = loader.next();
            assertEquals(4, b.size());
            assertTrue(b.scenes().get(0) != null, "synthetic only");
        }
    }

    @Test
    void badConfigsAreRefusedNamingTheProblem(@TempDir Path dir) throws IOException {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainConfig.read(dir.resolve("none.json")))
                .getMessage().contains("training config not found"));
        String m = message(dir, "{\"stage\": \"unet\",\n \"output\": }");
        assertTrue(m.contains("not valid JSON (line 2"), m);
        m = message(dir, "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"a\", \"trainer\": {\"steps\": 10, \"learning_rate\": 1}}");
        assertTrue(m.contains("unknown key \"trainer.learning_rate\""), m);
        m = message(dir, "{\"stage\": \"vae\", \"output\": \"o\", \"trainer\": {\"steps\": 10}}");
        assertTrue(m.contains("stage must be"), m);
        m = message(dir, "{\"stage\": \"unet\", \"output\": \"o\", \"trainer\": {\"steps\": 10}}");
        assertTrue(m.contains("needs \"autoencoder\""), m);
        m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {}}");
        assertTrue(m.contains("trainer.steps is required"), m);
        m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": 10}, \"data\": {\"batch_size\": 0}}");
        assertTrue(m.contains("data.batch_size must be > 0"), m);
        m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": \"many\"}}");
        assertTrue(m.contains("\"steps\" must be an integer"), m);
        m = message(dir, "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"a\", \"trainer\": {\"steps\": 10}, \"diffusion\": {\"prediction\": \"x0\"}}");
        assertTrue(m.contains("diffusion.prediction must be"), m);
        assertTrue(m.startsWith(dir.resolve("c.json").toString()), "names the file: " + m);
        m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": 10}, \"loss\": {\"posterior_noise\": 2}}");
        assertTrue(m.contains("posterior_noise must be in [0, 1]"), m);
    }
}
