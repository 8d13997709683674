package dev.edgegen.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchedulerConfigTest {
    // runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json (a PNDM config, as published)
    private static final String SD15_FILE = """
            {
              "_class_name": "PNDMScheduler",
              "_diffusers_version": "0.6.0",
              "beta_end": 0.012,
              "beta_schedule": "scaled_linear",
              "beta_start": 0.00085,
              "num_train_timesteps": 1000,
              "set_alpha_to_one": false,
              "skip_prk_steps": true,
              "steps_offset": 1,
              "trained_betas": null,
              "clip_sample": false
            }""";

    @Test
    void readsADiffusersFileAndLeavesSamplerDefaultsOpen() {
        SchedulerConfig c = SchedulerConfig.fromJson(SD15_FILE);
        assertEquals(1000, c.numTrainTimesteps());
        assertEquals(0.00085, c.betaStart());
        assertEquals(SchedulerConfig.BetaSchedule.SCALED_LINEAR, c.betaSchedule());
        assertEquals(1, c.stepsOffset());
        assertEquals(false, c.setAlphaToOne());
        assertNull(c.trainedBetas());
        assertNull(c.timestepSpacing(), "absent: each sampler uses its diffusers default");
        assertEquals(SchedulerConfig.TimestepSpacing.LINSPACE,
                c.timestepSpacingOr(SchedulerConfig.TimestepSpacing.LINSPACE));
        assertEquals(Double.NEGATIVE_INFINITY, c.lambdaMinClipped());
    }

    @Test
    void sd15PresetMatchesTheBrief() {
        SchedulerConfig c = SchedulerConfig.sd15();
        assertEquals(SchedulerConfig.fromJson(SD15_FILE).with(Map.of("timestep_spacing", "leading",
                "prediction_type", "epsilon")), c);
        assertEquals(SchedulerConfig.TimestepSpacing.LEADING, c.timestepSpacing());
        assertEquals(false, c.clipSample());
    }

    @Test
    void writeThenReadRoundTrips(@TempDir Path dir) throws Exception {
        SchedulerConfig c = SchedulerConfig.sd15().with(Map.of("use_karras_sigmas", true, "sigma_max", 700.0,
                "trained_betas", new float[] {0.1f, 0.2f}, "num_train_timesteps", 2, "original_inference_steps", 2));
        Path file = dir.resolve("scheduler/scheduler_config.json");
        c.write(file, "DPMSolverMultistepScheduler");
        String text = Files.readString(file);
        assertTrue(text.contains("\"_class_name\" : \"DPMSolverMultistepScheduler\""), text);
        assertTrue(text.contains("\"beta_schedule\" : \"scaled_linear\""), text);
        SchedulerConfig back = SchedulerConfig.read(file);
        assertEquals(c, back);
        assertArrayEquals(new float[] {0.1f, 0.2f}, back.trainedBetas());
        assertEquals(700.0, back.sigmaMax());
    }

    @Test
    void readsNonNumericLambdaAsDiffusersWritesIt() {
        SchedulerConfig c = SchedulerConfig.fromJson("{\"lambda_min_clipped\": -Infinity}");
        assertEquals(Double.NEGATIVE_INFINITY, c.lambdaMinClipped());
    }

    @Test
    void unknownValuesFailWithTheValidChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SchedulerConfig.fromJson("{\"beta_schedule\": \"sigmoid\"}"));
        assertTrue(e.getMessage().contains("sigmoid") && e.getMessage().contains("scaled_linear"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SchedulerConfig.fromJson("{\"prediction_type\": \"flow_prediction\"}"));
        assertTrue(e.getMessage().contains("v_prediction"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SchedulerConfig.fromJson("{\"timestep_spacing\": \"uniform\"}"));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SchedulerConfig.fromJson("{\"num_train_timesteps\": \"many\"}"));
        assertTrue(e.getMessage().contains("num_train_timesteps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{\"solver_order\": 3}"));
        assertTrue(e.getMessage().contains("solver_order"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{\"thresholding\": true}"));
        assertTrue(e.getMessage().contains("thresholding"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SchedulerConfig.fromJson("{\"algorithm_type\": \"sde-dpmsolver++\"}"));
        assertTrue(e.getMessage().contains("dpmsolver++"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("[1, 2]"));
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{not json"));
        assertThrows(IllegalArgumentException.class,
                () -> SchedulerConfig.fromJson("{\"num_train_timesteps\": 3, \"trained_betas\": [0.1]}"));
    }

    @Test
    void readNamesTheFileInErrors(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("scheduler_config.json");
        Files.writeString(file, "{\"beta_schedule\": \"quadratic\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.read(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("quadratic"), e.getMessage());
    }

    @Test
    void betasMatchTorch() {
        // torch.linspace(0.00085**0.5, 0.012**0.5, 1000) ** 2: first, last; cumprod's last (SD-1.5)
        float[] b = NoiseSchedules.betas(SchedulerConfig.sd15());
        assertEquals(0.00085f, b[0], 1e-9f);
        assertEquals(0.012f, b[999], 1e-8f);
        float[] ac = NoiseSchedules.alphasCumprod(b);
        assertEquals(0.0046600f, ac[999], 1e-6f);
        float[] cos = NoiseSchedules.betas(SchedulerConfig.fromJson("{\"beta_schedule\": \"squaredcos_cap_v2\"}"));
        assertEquals(0.999f, cos[999]); // capped
        float[] zsnr = NoiseSchedules.betas(SchedulerConfig.sd15().with(Map.of("rescale_betas_zero_snr", true)));
        assertEquals(1f, zsnr[999]); // zero terminal SNR
        assertEquals(0f, NoiseSchedules.alphasCumprod(zsnr)[999]);
    }
}
