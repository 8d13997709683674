package dev.edgegen.sampling;

import static dev.edgegen.sampling.DiffusersDummies.assertGolden;
import static dev.edgegen.sampling.DiffusersDummies.assertGoldenMean;
import static dev.edgegen.sampling.DiffusersDummies.model;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Golden values of diffusers' tests/schedulers/test_scheduler_dpm_multi.py (DPMSolverMultistepSchedulerTest). */
class DpmSolverMultistepSchedulerTest {
    // DPMSolverMultistepSchedulerTest.get_scheduler_config (thresholding off, variance_type None)
    private static final SchedulerConfig BASE = SchedulerConfig.fromJson("""
            {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
             "solver_order": 2, "prediction_type": "epsilon", "thresholding": false, "sample_max_value": 1.0,
             "algorithm_type": "dpmsolver++", "solver_type": "midpoint", "lower_order_final": false,
             "euler_at_final": false, "lambda_min_clipped": -Infinity, "variance_type": null,
             "final_sigmas_type": "sigma_min"}""");

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    /** DPMSolverMultistepSchedulerTest.full_loop: 10 steps from dummy_sample_deter. */
    private NDArray fullLoop(SchedulerConfig config) {
        DpmSolverMultistepScheduler s = new DpmSolverMultistepScheduler(config);
        s.setTimesteps(10);
        return loop(s, DiffusersDummies.sampleDeter(manager), 0);
    }

    private static NDArray loop(DpmSolverMultistepScheduler s, NDArray x, int start) {
        float[] ts = s.timesteps();
        for (int i = start; i < ts.length; i++) {
            x = s.step(model(x, ts[i]), i, x, null);
        }
        return x;
    }

    private static NDArray unetOutput(NDManager scope, NDArray x, float t) {
        return model(scope.create(x.toFloatArray(), x.getShape()), t);
    }

    @Test
    void testFullLoopNoNoise() {
        assertGoldenMean(fullLoop(BASE), 0.3301, 1e-3);
    }

    @Test
    void testFullLoopWithVPrediction() {
        assertGoldenMean(fullLoop(BASE.with(Map.of("prediction_type", "v_prediction"))), 0.2251, 1e-3);
    }

    @Test
    void testFullLoopWithKarrasAndVPrediction() {
        SchedulerConfig c = BASE.with(Map.of("prediction_type", "v_prediction", "use_karras_sigmas", true));
        assertGoldenMean(fullLoop(c), 0.2096, 1e-3);
    }

    @Test
    void testFullLoopWithNoise() {
        DpmSolverMultistepScheduler s = new DpmSolverMultistepScheduler(BASE);
        s.setTimesteps(10);
        int start = 5;
        NDArray x = s.addNoise(DiffusersDummies.sampleDeter(manager), DiffusersDummies.noiseDeter(manager), start);
        assertGolden(loop(s, x, start), 318.4111, 1e-2, 0.4146, 1e-3);
    }

    @Test
    void linspaceTimestepsDropTheLastOfStepsPlusOne() {
        DpmSolverMultistepScheduler s = new DpmSolverMultistepScheduler(BASE);
        s.setTimesteps(10);
        // np.linspace(0, 999, 11).round()[::-1][:-1]
        assertArrayEquals(new float[] {999, 899, 799, 699, 599, 500, 400, 300, 200, 100}, s.timesteps());
    }

    @Test
    void karrasTimestepsAreRoundedAndDescending() {
        DpmSolverMultistepScheduler s = new DpmSolverMultistepScheduler(BASE.with(Map.of("use_karras_sigmas", true)));
        s.setTimesteps(10);
        float[] ts = s.timesteps();
        assertEquals(999f, ts[0]);
        for (int i = 0; i < ts.length; i++) {
            assertEquals(Math.rint(ts[i]), ts[i]);
            assertTrue(i == 0 || ts[i] < ts[i - 1]);
        }
    }

    @Test
    void zeroFinalSigmaReturnsTheLastX0Estimate() {
        // final_sigmas_type zero forces a first-order last step, which lands exactly on x0
        DpmSolverMultistepScheduler s = new DpmSolverMultistepScheduler(
                BASE.with(Map.of("final_sigmas_type", "zero", "prediction_type", "sample")));
        s.setTimesteps(3);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        NDArray x0 = DiffusersDummies.noiseDeter(manager);
        for (int i = 0; i < 3; i++) {
            x = s.step(x0, i, x, null);
        }
        assertEquals(0f, x.sub(x0).abs().max().getFloat(), 1e-6f);
    }

    @Test
    void stepsMustRunInOrderAndHistoryStaysOnSampleManager() {
        DpmSolverMultistepScheduler s = new DpmSolverMultistepScheduler(BASE);
        s.setTimesteps(10);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        int before = manager.getManagedArrays().size();
        NDArray x1;
        NDArray x2;
        try (NDManager unet = manager.newSubManager()) {
            x1 = s.step(unetOutput(unet, x, 999), 0, x, null);
            x2 = s.step(unetOutput(unet, x1, 899), 1, x1, null);
        }
        // the 2 results + the one kept x0 estimate (the first one was closed)
        assertEquals(before + 3, manager.getManagedArrays().size());
        assertThrows(IllegalStateException.class, () -> s.step(x2, 5, x2, null));
        s.setTimesteps(10); // restarts; img2img may start at any index
        s.step(model(x, 500), 5, x, null);
    }
}
