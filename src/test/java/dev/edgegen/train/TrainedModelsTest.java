package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.vae.AutoencoderKL;
import dev.edgegen.vae.Posterior;
import dev.edgegen.vae.VAEConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainedModelsTest {
    private static NDArray[] posterior(AutoencoderKL vae, NDArray x) {
        try (Posterior p = vae.encode(x)) {
            return new NDArray[] {p.mean().duplicate(), p.logvar().duplicate()};
        }
    }

    @Test
    void posteriorNoiseIsFoldedIntoTheLogVariance() {
        try (NDManager m = NDManager.newBaseManager()) {
            VAEConfig c = new VAEConfig(3, 3, 4, List.of(8, 8), 1, 4, 1f, 16);
            AutoencoderKL vae = new AutoencoderKL(c);
            vae.initializeFanIn(m, 1);
            NDArray x = m.randomUniform(-1, 1, new Shape(2, 3, 16, 16));                 // (B, 3, H, W)
            NDArray[] before = posterior(vae, x);
            TrainedModels.foldPosteriorNoise(vae, 0.5);                                 // σ → σ / 2
            NDArray[] half = posterior(vae, x);
            assertTrue(half[0].sub(before[0]).abs().max().getFloat() < 1e-6, "the mean is untouched");
            float shift = before[1].sub(half[1]).mean().getFloat();
            assertEquals(2 * Math.log(2), shift, 1e-4, "log σ² drops by 2 ln 2");
            TrainedModels.foldPosteriorNoise(vae, 0);                                   // a point mass at the mean
            NDArray[] none = posterior(vae, x);
            assertEquals(-30f, none[1].max().getFloat(), 1e-4);
            assertTrue(none[0].sub(before[0]).abs().max().getFloat() < 1e-6);
        }
    }
}
