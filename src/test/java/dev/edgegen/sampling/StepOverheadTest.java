package dev.edgegen.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.tensor.Randn;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Per-step cost and native-memory hygiene of every sampler on an SD-1.5 latent (1, 4, 64, 64). */
class StepOverheadTest {
    @Test
    void stepsAreCheapAndLeaveOnlyTheirResult() {
        Shape latent = new Shape(1, 4, 64, 64);
        int steps = 50;
        for (Sampler sampler : Sampler.values()) {
            Scheduler s = sampler.create(SchedulerConfig.sd15());
            int n = sampler == Sampler.LCM ? 8 : steps;
            Random rng = new Random(0);
            try (NDManager root = NDManager.newBaseManager()) {
                long best = Long.MAX_VALUE;
                for (int rep = 0; rep < 3; rep++) {
                    s.setTimesteps(n);
                    NDArray x = Randn.randn(root, latent, rng).muli(s.initNoiseSigma());
                    int arraysBefore = root.getManagedArrays().size();
                    long total = 0;
                    for (int i = 0; i < n; i++) {
                        try (NDManager stepScope = root.newSubManager()) {
                            NDArray in = s.scaleModelInput(x, i);
                            NDArray eps = in.mul(0.1f); // stands in for the UNet
                            eps.attach(stepScope);
                            if (in != x) {
                                in.attach(stepScope);
                            }
                            long t0 = System.nanoTime();
                            NDArray next = s.step(eps, i, x, rng);
                            total += System.nanoTime() - t0;
                            x.close();
                            x = next;
                        }
                    }
                    int kept = sampler == Sampler.DPMPP_2M || sampler == Sampler.DPMPP_2M_KARRAS ? 1 : 0;
                    assertEquals(arraysBefore + kept, root.getManagedArrays().size(),
                            sampler.cliName() + ": only the latent (and DPM's x0 history) stays alive");
                    best = Math.min(best, total / n);
                }
                System.out.printf("{\"step_overhead\": \"%s\", \"ms_per_step\": %.3f, \"latent\": \"(1, 4, 64, 64)\"}%n",
                        sampler.cliName(), best / 1e6);
                assertTrue(best < 100_000_000L, sampler.cliName() + " step takes " + best / 1e6 + " ms");
            }
        }
    }
}
