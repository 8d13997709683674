package dev.edgegen.sampling;

import static dev.edgegen.sampling.DiffusersDummies.assertGolden;
import static dev.edgegen.sampling.DiffusersDummies.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Golden values of diffusers' tests/schedulers/test_scheduler_lcm.py (LCMSchedulerTest). The
 * multistep loop re-noises with torch.manual_seed(0) noise, reproduced by {@link TorchCpuGenerator}.
 */
class LcmSchedulerTest {
    // LCMSchedulerTest.get_scheduler_config
    private static final SchedulerConfig BASE = SchedulerConfig.fromJson("""
            {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.0120,
             "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}""");

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    /** LCMSchedulerTest.full_loop(num_inference_steps, seed=0). */
    private NDArray fullLoop(int steps) {
        LcmScheduler s = new LcmScheduler(BASE);
        s.setTimesteps(steps);
        TorchCpuGenerator torch = new TorchCpuGenerator(0);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        float[] ts = s.timesteps();
        for (int i = 0; i < ts.length; i++) {
            NDArray eps = model(x, ts[i]);
            x = i == ts.length - 1 ? s.step(eps, i, x, null)
                    : s.stepWithNoise(eps, i, x, torch.randn(manager, x.getShape()));
        }
        return x;
    }

    @Test
    void testFullLoopOnestep() {
        assertGolden(fullLoop(1), 18.7097, 1e-3, 0.0244, 1e-3);
    }

    @Test
    void testFullLoopMultistep() {
        assertGolden(fullLoop(10), 197.7616, 1e-3, 0.2575, 1e-3);
    }

    @Test
    void timestepsAreASubsetOfTheDistillationSchedule() {
        LcmScheduler s = new LcmScheduler(BASE);
        s.setTimesteps(4);
        // original_inference_steps 50: [999, 979, ..., 19]; 4 steps take indices 0, 12, 25, 37
        assertArrayEquals(new float[] {999, 759, 499, 259}, s.timesteps());
        s.setTimesteps(1);
        assertArrayEquals(new float[] {999}, s.timesteps());
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(51));
    }

    @Test
    void stepsNeedAnRngExceptTheLast() {
        LcmScheduler s = new LcmScheduler(BASE);
        s.setTimesteps(2);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        assertThrows(IllegalArgumentException.class, () -> s.step(x, 0, x, null));
        NDArray a = s.step(x, 0, x, new Random(1));
        NDArray b = s.step(x, 0, x, new Random(2));
        assertEquals(true, a.sub(b).abs().max().getFloat() > 0.1f, "re-noising uses the rng");
        s.step(x, 1, x, null);
    }
}
