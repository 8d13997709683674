package dev.edgegen.vae;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Randn;
import java.util.Random;

/** Diagonal Gaussian over latents: mean and log-variance (clamped to [-30, 20]), each (B, latent, h, w). */
public record Posterior(NDArray mean, NDArray logvar) implements AutoCloseable {

    /** mean + exp(logvar / 2) · ε with ε drawn from rng; (B, latent, h, w) in mean's manager. */
    public NDArray sample(Random rng) {
        NDArray eps = Randn.randn(mean.getManager(), mean.getShape(), rng);
        NDArray std = logvar.mul(0.5f).exp();
        NDArray out = eps.muli(std).addi(mean);
        std.close();
        return out;
    }

    /** The distribution's mode (the mean). */
    public NDArray mode() { return mean; }

    @Override
    public void close() {
        mean.close();
        logvar.close();
    }
}
