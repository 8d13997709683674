package dev.edgegen.sampling;

import static dev.edgegen.sampling.DiffusersDummies.assertGolden;
import static dev.edgegen.sampling.DiffusersDummies.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Golden values of diffusers' tests/schedulers/test_scheduler_euler.py (EulerDiscreteSchedulerTest).
 * Its loop feeds the scaled sample to step() as well, so these loops do the same.
 */
class EulerSchedulerTest {
    // EulerDiscreteSchedulerTest.get_scheduler_config
    private static final SchedulerConfig BASE = SchedulerConfig.fromJson("""
            {"num_train_timesteps": 1100, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}""");

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    /** EulerDiscreteSchedulerTest.full_loop: 10 steps from dummy_sample_deter * init_noise_sigma. */
    private NDArray fullLoop(SchedulerConfig config) {
        EulerScheduler s = new EulerScheduler(config);
        s.setTimesteps(10);
        NDArray x = DiffusersDummies.sampleDeter(manager).mul(s.initNoiseSigma());
        return loop(s, x, 0);
    }

    private static NDArray loop(EulerScheduler s, NDArray x, int start) {
        float[] ts = s.timesteps();
        for (int i = start; i < ts.length; i++) {
            x = s.scaleModelInput(x, i);
            x = s.step(model(x, ts[i]), i, x, null);
        }
        return x;
    }

    @Test
    void testFullLoopNoNoise() {
        assertGolden(fullLoop(BASE), 10.0807, 1e-2, 0.0131, 1e-3);
    }

    @Test
    void testFullLoopWithVPrediction() {
        // diffusers' golden is ~0: a weak check on its own; the DPM and DDIM v goldens are stronger
        assertGolden(fullLoop(BASE.with(Map.of("prediction_type", "v_prediction"))), 0.0002, 1e-2, 2.2676e-06, 1e-3);
    }

    @Test
    void testFullLoopDeviceKarrasSigmas() {
        assertGolden(fullLoop(BASE.with(Map.of("use_karras_sigmas", true))),
                124.52299499511719, 1e-2, 0.16213932633399963, 1e-3);
    }

    @Test
    void testFullLoopWithNoise() {
        EulerScheduler s = new EulerScheduler(BASE);
        s.setTimesteps(10);
        int start = 10 - 2;
        NDArray x = DiffusersDummies.sampleDeter(manager).mul(s.initNoiseSigma());
        x = s.addNoise(x, DiffusersDummies.noiseDeter(manager), start);
        assertGolden(loop(s, x, start), 57062.9297, 1e-2, 74.3007, 1e-3);
    }

    @Test
    void linspaceTimestepsAreFractionalAndSigmasEndAtZero() {
        EulerScheduler s = new EulerScheduler(BASE);
        s.setTimesteps(4);
        // np.linspace(0, 1099, 4)[::-1] in float32
        assertArrayEquals(new float[] {1099f, 732.6667f, 366.3333f, 0f}, s.timesteps(), 1e-4f);
        float[] sigmas = s.sigmas();
        assertEquals(5, sigmas.length);
        assertEquals(0f, sigmas[4]);
        assertEquals(sigmas[0], s.initNoiseSigma());
    }

    @Test
    void leadingSpacingScalesInitNoiseLikeDiffusers() {
        EulerScheduler s = new EulerScheduler(SchedulerConfig.sd15());
        s.setTimesteps(50);
        float[] ts = s.timesteps();
        assertEquals(981f, ts[0]);
        assertEquals(1f, ts[49]);
        float max = s.sigmas()[0];
        assertEquals(Math.sqrt(max * max + 1), s.initNoiseSigma(), 1e-5);
        EulerScheduler linspace = new EulerScheduler(SchedulerConfig.sd15().with(Map.of("timestep_spacing", "linspace")));
        linspace.setTimesteps(50);
        assertEquals(14.6146, linspace.initNoiseSigma(), 1e-3); // SD-1.5's sigma at t = 999
    }
}
