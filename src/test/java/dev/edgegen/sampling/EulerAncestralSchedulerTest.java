package dev.edgegen.sampling;

import static dev.edgegen.sampling.DiffusersDummies.assertGolden;
import static dev.edgegen.sampling.DiffusersDummies.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.tensor.Randn;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Golden values of diffusers' tests/schedulers/test_scheduler_euler_ancestral.py. Those loops draw
 * each step's noise from torch.manual_seed(0); {@link TorchCpuGenerator} reproduces that stream, and
 * the noise goes in through {@code stepWithNoise}. A statistical test covers the Java-rng path.
 */
class EulerAncestralSchedulerTest {
    // EulerAncestralDiscreteSchedulerTest.get_scheduler_config
    private static final SchedulerConfig BASE = SchedulerConfig.fromJson("""
            {"num_train_timesteps": 1100, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}""");

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    private NDArray loop(EulerAncestralScheduler s, NDArray x, int start) {
        TorchCpuGenerator torch = new TorchCpuGenerator(0);
        float[] ts = s.timesteps();
        for (int i = start; i < ts.length; i++) {
            x = s.scaleModelInput(x, i); // as diffusers' test loop, the scaled sample is stepped
            x = s.stepWithNoise(model(x, ts[i]), i, x, torch.randn(manager, x.getShape()));
        }
        return x;
    }

    private NDArray fullLoop(SchedulerConfig config) {
        EulerAncestralScheduler s = new EulerAncestralScheduler(config);
        s.setTimesteps(10);
        return loop(s, DiffusersDummies.sampleDeter(manager).mul(s.initNoiseSigma()), 0);
    }

    @Test
    void testFullLoopNoNoise() {
        assertGolden(fullLoop(BASE), 152.3192, 1e-2, 0.1983, 1e-3);
    }

    @Test
    void testFullLoopWithVPrediction() {
        assertGolden(fullLoop(BASE.with(Map.of("prediction_type", "v_prediction"))), 108.4439, 1e-2, 0.1412, 1e-3);
    }

    @Test
    void testFullLoopWithNoise() {
        EulerAncestralScheduler s = new EulerAncestralScheduler(BASE);
        s.setTimesteps(10);
        int start = 10 - 2;
        NDArray x = DiffusersDummies.sampleDeter(manager).mul(s.initNoiseSigma());
        x = s.addNoise(x, DiffusersDummies.noiseDeter(manager), start);
        assertGolden(loop(s, x, start), 56163.0508, 1e-2, 73.1290, 1e-3);
    }

    @Test
    void ancestralStepKeepsTheMarginalAtTheNextSigma() {
        // x ~ N(0, sigma_i^2) and an ideal denoiser of data = 0 (eps = x / sigma): the Euler part scales
        // x to sigma_down, the added noise has std sigma_up, so x_next has std sigma_{i+1}.
        EulerAncestralScheduler s = new EulerAncestralScheduler(BASE);
        s.setTimesteps(10);
        float[] sigmas = s.sigmas();
        Random rng = new Random(7);
        Shape shape = new Shape(4, 4, 64, 64);
        for (int i : new int[] {0, 4, 8}) {
            NDArray x = Randn.randn(manager, shape, rng).mul(sigmas[i]);
            NDArray next = s.step(x.div(sigmas[i]), i, x, rng);
            double std = Math.sqrt(next.square().mean().getFloat());
            assertEquals(sigmas[i + 1], std, 0.01 * sigmas[i + 1], "std after step " + i);
            float up = EulerAncestralScheduler.sigmaUp(sigmas[i], sigmas[i + 1]);
            double down = Math.sqrt(sigmas[i + 1] * sigmas[i + 1] - up * up);
            double corr = next.mul(x).mean().getFloat() / (sigmas[i] * std);
            assertEquals(down / sigmas[i + 1], corr, 0.02, "share of x kept after step " + i);
        }
    }

    @Test
    void lastStepAddsNoNoise() {
        EulerAncestralScheduler s = new EulerAncestralScheduler(BASE);
        s.setTimesteps(10);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        NDArray eps = model(x, 1);
        NDArray a = s.step(eps, 9, x, new Random(1));
        NDArray b = s.step(eps, 9, x, new Random(2));
        assertEquals(0f, a.sub(b).abs().max().getFloat());
    }

    @Test
    void rejectsSamplePredictionAndMissingRng() {
        assertThrows(IllegalArgumentException.class,
                () -> new EulerAncestralScheduler(BASE.with(Map.of("prediction_type", "sample"))));
        EulerAncestralScheduler s = new EulerAncestralScheduler(BASE);
        s.setTimesteps(10);
        NDArray x = DiffusersDummies.sampleDeter(manager);
        assertThrows(IllegalArgumentException.class, () -> s.step(x, 0, x, null));
    }
}
