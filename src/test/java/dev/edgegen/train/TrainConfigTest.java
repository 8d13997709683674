package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgegen.data.Batch;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.tensor.Autocast;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainConfigTest {
    private static final List<SyntheticScenes.Rebinding> SWAP = List.of(SyntheticScenes.Rebinding.SWAP);

    /** {@code json} written to dir/c.json; relative paths in it resolve against {@code dir}. */
    static Path write(Path dir, String json) throws IOException {
        return Files.writeString(dir.resolve("c.json"), json);
    }

    static String message(Path dir, String json) throws IOException {
        Path f = write(dir, json);
        return assertThrows(IllegalArgumentException.class, () -> TrainConfig.read(f)).getMessage();
    }

    @Test
    void readsDefaultsAndResolvesPaths(@TempDir Path dir) throws IOException {
        TrainConfig c = TrainConfig.read(write(dir, "{\"stage\": \"autoencoder\", \"output\": \"runs/ae\", \"seed\": 3,"
                + " \"data\": {\"emoji_weight\": 0, \"batch_size\": 4},"
                + " \"trainer\": {\"steps\": 100, \"lr\": 0.0002, \"checkpoint_every\": 50}}"));
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
        assertEquals(Autocast.Precision.FLOAT32, c.trainer().precision());
        try (DataLoader loader = c.data().loader(c.seed(), c.data().start(), System.out)) {
            Batch b = loader.next();
            assertEquals(4, b.size());
            assertTrue(b.scenes().get(0) != null, "synthetic only");
        }
    }

    @Test
    void dataStartSkipsTheSamplesAnEarlierStageSaw(@TempDir Path dir) throws IOException {
        TrainConfig c = TrainConfig.read(write(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"seed\": 1,"
                + " \"data\": {\"emoji_weight\": 0, \"batch_size\": 2, \"flip\": false, \"start\": 1000},"
                + " \"trainer\": {\"steps\": 10}}"));
        assertEquals(1000, c.data().start());
        try (DataLoader later = c.data().loader(c.seed(), c.data().start(), System.out);
             DataLoader fresh = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 2, 1, 1)) {
            assertEquals(1000, later.position());
            Batch first = fresh.next();
            fresh.seek(1000);
            Batch expected = fresh.next();
            Batch b = later.next();
            assertEquals(expected.captions(), b.captions());
            assertFalse(first.captions().equals(b.captions()), "starts past position 0");
            assertEquals(1002, later.position());
        }
        String m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": 10}, \"data\": {\"start\": -1}}");
        assertTrue(m.contains("data.start must be >= 0"), m);
    }

    @Test
    void objectCountsSetTheMixOfSyntheticScenes(@TempDir Path dir) throws IOException {
        TrainConfig c = TrainConfig.read(write(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"seed\": 1,"
                + " \"data\": {\"emoji_weight\": 0, \"batch_size\": 8, \"flip\": false, \"object_counts\": [0, 1, 0]},"
                + " \"trainer\": {\"steps\": 10}}"));
        try (DataLoader loader = c.data().loader(c.seed(), 0, System.out)) {
            for (int b = 0; b < 3; b++) {
                for (Scene s : loader.next().scenes()) assertEquals(2, s.count(), "only two-object scenes");
            }
        }
        assertEquals(SyntheticScenes.CountMix.DEFAULT, TrainConfig.read(write(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\","
                + " \"trainer\": {\"steps\": 10}}")).data().objectCounts(), "absent: the default mix");
        String m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": 10}, \"data\": {\"object_counts\": [1, 2]}}");
        assertTrue(m.contains("\"object_counts\" must be three numbers"), m);
        m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": 10}, \"data\": {\"object_counts\": [0, 0, 0]}}");
        assertTrue(m.contains("object-count weights must be >= 0 and not all 0"), m);
    }

    @Test
    void aLatentPoolIsForTheUnetStageAndNotNegative(@TempDir Path dir) throws IOException {
        String unet = "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"ae\", \"trainer\": {\"steps\": 10}, ";
        assertEquals(500, TrainConfig.read(write(dir, unet + "\"data\": {\"pool\": 500}}")).data().pool());
        assertEquals(0, TrainConfig.read(write(dir, unet + "\"data\": {}}")).data().pool(), "absent: no pool");
        String m = message(dir, unet + "\"data\": {\"pool\": -1}}");
        assertTrue(m.contains("data.pool must be >= 0"), m);
        m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": 10}, \"data\": {\"pool\": 5}}");
        assertTrue(m.contains("data.pool applies to the unet stage only"), m);
    }

    @Test
    void theObjectWeightsMaxTimestepDefaultsToAllAndStaysInTheSchedule(@TempDir Path dir) throws IOException {
        String unet = "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"ae\", \"trainer\": {\"steps\": 10}, ";
        assertEquals(1000, TrainConfig.read(write(dir, unet + "\"diffusion\": {\"object_weight\": 3}}")).diffusion().objectWeightMaxT(),
                "absent: every timestep");
        assertEquals(400, TrainConfig.read(write(dir, unet + "\"diffusion\": {\"object_weight\": 3, \"object_weight_max_t\": 400}}"))
                .diffusion().objectWeightMaxT());
        String m = message(dir, unet + "\"diffusion\": {\"object_weight_max_t\": 1001}}");
        assertTrue(m.contains("diffusion.object_weight_max_t must be in [1, train_timesteps = 1000]"), m);
    }

    @Test
    void theBindingLossIsOffByDefaultAndItsSettingsAreChecked(@TempDir Path dir) throws IOException {
        String unet = "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"ae\", \"trainer\": {\"steps\": 10}, ";
        assertEquals(new TrainConfig.Binding(0, 1.0, 0, 700, 8, 0, SWAP), TrainConfig.read(write(dir, unet + "\"diffusion\": {}}")).diffusion().binding());
        assertEquals(new TrainConfig.Binding(0.02, 0.5, 300, 600, 4, 2000, SWAP), TrainConfig.read(write(dir, unet + "\"diffusion\": {\"binding_loss\": 0.02, "
                + "\"binding_margin\": 0.5, \"binding_min_t\": 300, \"binding_max_t\": 600, \"binding_samples\": 4, \"binding_start_step\": 2000}}")).diffusion().binding());
        String m = message(dir, unet + "\"diffusion\": {\"binding_max_t\": 0}}");
        assertTrue(m.contains("diffusion.binding_max_t must be in [1, train_timesteps = 1000]"), m);
        m = message(dir, unet + "\"diffusion\": {\"binding_loss\": -1}}");
        assertTrue(m.contains("diffusion.binding_loss must be >= 0"), m);
        m = message(dir, unet + "\"diffusion\": {\"binding_samples\": 0}}");
        assertTrue(m.contains("diffusion.binding_samples must be >= 1"), m);
        m = message(dir, unet + "\"diffusion\": {\"binding_min_t\": 700}}");
        assertTrue(m.contains("diffusion.binding_min_t must be in [0, binding_max_t = 700)"), m);
        m = message(dir, unet + "\"diffusion\": {\"binding_start_step\": -1}}");
        assertTrue(m.contains("diffusion.binding_start_step must be >= 0"), m);
        assertEquals(List.of(SyntheticScenes.Rebinding.SHAPE_LEAK, SyntheticScenes.Rebinding.SWAP),
                TrainConfig.read(write(dir, unet + "\"diffusion\": {\"binding_negatives\": [\"shape_leak\", \"swap\"]}}"))
                        .diffusion().binding().negatives());
        for (String bad : new String[] {"[]", "[\"swap\", \"swap\"]", "[\"colour_swap\"]", "\"swap\""}) {
            m = message(dir, unet + "\"diffusion\": {\"binding_negatives\": " + bad + "}}");
            assertTrue(m.contains("\"binding_negatives\"") && m.contains("\"colour_leak\""), bad + ": " + m);
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
        m = message(dir, "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"a\", \"trainer\": {\"steps\": 10},"
                + " \"diffusion\": {\"rescale_betas_zero_snr\": true}}");
        assertTrue(m.contains("rescale_betas_zero_snr needs \"prediction\": \"v_prediction\""), m);
        m = message(dir, "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"a\", \"trainer\": {\"steps\": 10},"
                + " \"diffusion\": {\"prediction\": \"v_prediction\", \"rescale_betas_zero_snr\": \"yes\"}}");
        assertTrue(m.contains("must be true or false"), m);
        m = message(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\", \"trainer\": {\"steps\": 10, \"precision\": \"fp16\"}}");
        assertTrue(m.contains("trainer.precision must be \"float32\" or \"bfloat16\""), m);
        assertEquals(Autocast.Precision.BFLOAT16, TrainConfig.read(write(dir, "{\"stage\": \"autoencoder\", \"output\": \"o\","
                + " \"trainer\": {\"steps\": 10, \"precision\": \"bfloat16\"}}")).trainer().precision());
    }

    @Test
    void zeroTerminalSnrTrainsAndSamplesOnTheSameSchedule(@TempDir Path dir) throws IOException {
        TrainConfig.Diffusion d = TrainConfig.read(write(dir, "{\"stage\": \"unet\", \"output\": \"o\", \"autoencoder\": \"a\","
                + " \"trainer\": {\"steps\": 10}, \"diffusion\": {\"prediction\": \"v_prediction\", \"rescale_betas_zero_snr\": true}}")).diffusion();
        NoiseSchedule s = d.schedule();
        assertTrue(s.zeroTerminalSnr());
        assertFalse(NoiseSchedule.sd().zeroTerminalSnr());
        assertEquals(1000, s.steps());
        // the rescale keeps the first timestep's signal and removes the last one's
        assertEquals(NoiseSchedule.sd().alphasCumprod()[0], s.alphasCumprod()[0], 1e-6);
        assertTrue(NoiseSchedule.sd().alphasCumprod()[999] > 0.004);
        dev.edgegen.sampling.SchedulerConfig sc = d.schedulerConfig();
        assertTrue(sc.rescaleBetasZeroSnr());
        assertEquals(dev.edgegen.sampling.SchedulerConfig.TimestepSpacing.TRAILING, sc.timestepSpacing());
        assertEquals(dev.edgegen.sampling.SchedulerConfig.PredictionType.V_PREDICTION, sc.predictionType());
        float[] sampled = sc.alphasCumprod();
        for (int t = 0; t < 1000; t += 111) assertEquals(sampled[t], s.alphasCumprod()[t], 0.0);
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            ai.djl.ndarray.types.Shape one = new ai.djl.ndarray.types.Shape(1, 1, 1, 1);
            assertEquals(-2f, s.velocity(m.full(one, 2f), m.ones(one), new int[] {999}).getFloat(), 1e-6, "at t = T-1 the v target is -x0");
        }
    }
}
