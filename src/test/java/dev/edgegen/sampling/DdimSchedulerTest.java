package dev.edgegen.sampling;

import static dev.edgegen.sampling.DiffusersDummies.assertGolden;
import static dev.edgegen.sampling.DiffusersDummies.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Golden values of diffusers' tests/schedulers/test_scheduler_ddim.py (DDIMSchedulerTest). */
class DdimSchedulerTest {
    // DDIMSchedulerTest.get_scheduler_config
    private static final SchedulerConfig BASE = SchedulerConfig.fromJson("""
            {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
             "beta_schedule": "linear", "clip_sample": true}""");

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    /** DDIMSchedulerTest.full_loop: 10 steps, eta 0, from dummy_sample_deter. */
    private NDArray fullLoop(SchedulerConfig config) {
        DdimScheduler s = new DdimScheduler(config);
        s.setTimesteps(10);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        float[] ts = s.timesteps();
        for (int i = 0; i < ts.length; i++) {
            x = s.step(model(x, ts[i]), i, x, null);
        }
        return x;
    }

    @Test
    void testFullLoopNoNoise() {
        assertGolden(fullLoop(BASE), 172.0067, 1e-2, 0.223967, 1e-3);
    }

    @Test
    void testFullLoopWithVPrediction() {
        assertGolden(fullLoop(BASE.with(Map.of("prediction_type", "v_prediction"))), 52.5302, 1e-2, 0.0684, 1e-3);
    }

    @Test
    void testFullLoopWithSetAlphaToOne() {
        SchedulerConfig c = BASE.with(Map.of("set_alpha_to_one", true, "beta_start", 0.01));
        assertGolden(fullLoop(c), 149.8295, 1e-2, 0.1951, 1e-3);
    }

    @Test
    void testFullLoopWithNoSetAlphaToOne() {
        SchedulerConfig c = BASE.with(Map.of("set_alpha_to_one", false, "beta_start", 0.01));
        assertGolden(fullLoop(c), 149.0784, 1e-2, 0.1941, 1e-3);
    }

    @Test
    void testFullLoopWithNoise() {
        DdimScheduler s = new DdimScheduler(BASE);
        s.setTimesteps(10);
        int start = 8;
        NDArray x = s.addNoise(DiffusersDummies.sampleDeter(manager), DiffusersDummies.noiseDeter(manager), start);
        float[] ts = s.timesteps();
        for (int i = start; i < ts.length; i++) {
            x = s.step(model(x, ts[i]), i, x, null);
        }
        assertGolden(x, 354.5418, 1e-2, 0.4616, 1e-3);
    }

    @Test
    void testVarianceThroughEtaNoise() {
        // DDIMSchedulerTest.test_variance: _get_variance(980, 960) = 0.32460, (420, 400) = 0.14771.
        // With eta = 1 the step adds sqrt(variance) * noise; 50 leading steps put 980 at 0 and 420 at 28.
        DdimScheduler s = new DdimScheduler(BASE, 1f);
        s.setTimesteps(50);
        assertEquals(980f, s.timesteps()[0]);
        assertEquals(420f, s.timesteps()[28]);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        NDArray noise = DiffusersDummies.noiseDeter(manager);
        NDArray zeros = manager.zeros(x.getShape());
        int[] index = {0, 28};
        double[] variance = {0.32460, 0.14771};
        for (int k = 0; k < 2; k++) {
            NDArray eps = model(x, s.timesteps()[index[k]]);
            NDArray added = s.stepWithNoise(eps, index[k], x, noise).sub(s.stepWithNoise(eps, index[k], x, zeros));
            NDArray expected = noise.mul((float) Math.sqrt(variance[k]));
            assertEquals(0f, added.sub(expected).abs().max().getFloat(), 2e-5f);
        }
    }

    @Test
    void testStepsOffset() {
        DdimScheduler s = new DdimScheduler(BASE.with(Map.of("steps_offset", 1)));
        s.setTimesteps(5);
        assertArrayEquals(new float[] {801, 601, 401, 201, 1}, s.timesteps());
    }

    @Test
    void spacingsMatchNumpy() {
        // values printed by diffusers' set_timesteps(10) for N = 1000
        DdimScheduler trailing = new DdimScheduler(BASE.with(Map.of("timestep_spacing", "trailing")));
        trailing.setTimesteps(10);
        assertArrayEquals(new float[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}, trailing.timesteps());
        DdimScheduler linspace = new DdimScheduler(BASE.with(Map.of("timestep_spacing", "linspace")));
        linspace.setTimesteps(10);
        assertArrayEquals(new float[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0}, linspace.timesteps());
    }

    @Test
    void img2imgStartIndexSkipsLikeDiffusers() {
        DdimScheduler s = new DdimScheduler(BASE);
        s.setTimesteps(50);
        assertEquals(10, s.startIndex(0.8)); // int(50 * 0.8) = 40 kept
        assertEquals(0, s.startIndex(1.0));
        assertEquals(49, s.startIndex(0.03)); // int(1.5) = 1 kept
        assertThrows(IllegalArgumentException.class, () -> s.startIndex(0.01));
        assertThrows(IllegalArgumentException.class, () -> s.startIndex(0));
        assertThrows(IllegalArgumentException.class, () -> s.startIndex(1.5));
    }

    @Test
    void rejectsMisuse() {
        DdimScheduler s = new DdimScheduler(BASE);
        assertThrows(IllegalStateException.class, s::timesteps);
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(1001));
        s.setTimesteps(10);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        assertThrows(IllegalArgumentException.class, () -> s.step(x, 10, x, null));
        assertThrows(IllegalArgumentException.class, () -> new DdimScheduler(BASE, 1.5f));
        assertThrows(IllegalArgumentException.class, () -> new DdimScheduler(BASE, 0.5f).step(x, 0, x, null));
    }

    @Test
    void stepKeepsResultOnSampleManagerAndFreesTemporaries() {
        DdimScheduler s = new DdimScheduler(BASE);
        s.setTimesteps(10);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        try (NDManager unet = manager.newSubManager()) {
            NDArray eps = model(x, 999).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            eps.attach(unet);
            int before = manager.getManagedArrays().size();
            NDArray next = s.step(eps, 0, x, null);
            assertEquals(manager, next.getManager());
            assertEquals(before + 1, manager.getManagedArrays().size(), "only the result is added");
            assertEquals(unet, eps.getManager(), "model output is returned to its manager");
        }
    }
}
