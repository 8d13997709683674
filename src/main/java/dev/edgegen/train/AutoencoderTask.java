package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.data.DataLoader;
import dev.edgegen.tensor.Ops;
import dev.edgegen.tensor.Randn;
import java.util.Random;

/**
 * KL autoencoder training (Kingma &amp; Welling 2014; the LDM first stage without its GAN and
 * perceptual terms): z = μ + σ·ε, loss = |x − D(z)|₁ + mseWeight·(x − D(z))² + klWeight·KL(q(z|x) ‖ N(0, I)),
 * with the KL summed over latent elements and averaged over the batch, as LDM does. With {@code posteriorNoise}
 * &lt; 1 the sample is z = μ + posteriorNoise·σ·ε (0: the decoder sees the mean; the KL term still keeps μ near
 * N(0, I)).
 *
 * <p>With {@code scaleEquivariance} w &gt; 0 (Skorokhodov et al. 2025, "Improving the Diffusability of Autoencoders")
 * the loss adds w times the same reconstruction loss between the image and the decoding of the latent, both
 * downsampled by the same factor (2 or 4, drawn each step; area averaging): the decoder must read a
 * downsampled latent as the downsampled image, which keeps high spatial frequencies out of the latent, the
 * content a diffusion model finds hardest to generate. With {@code latentSmoothness} w &gt; 0 it adds w times the
 * latent means' high-frequency share ({@link Ops#highFrequencyShare}), a direct penalty on the same content (a crude
 * form of Ning et al. 2026's encoding spectrum matching).
 */
public final class AutoencoderTask implements Trainer.Task {
    /** The trained autoencoder: images (B, 3, H, W) → {mean, logvar} each (B, C, h, w); latents → images. */
    public interface Autoencoder {
        NDArray[] encode(NDArray images);

        NDArray decode(NDArray latents);
    }

    private final Autoencoder model;
    private final DataLoader loader;
    private final double klWeight;
    private final double mseWeight;
    private final double posteriorNoise;
    private final double scaleEquivariance;
    private final double latentSmoothness;

    public AutoencoderTask(Autoencoder model, DataLoader loader, double klWeight, double mseWeight) {
        this(model, loader, klWeight, mseWeight, 1, 0, 0);
    }

    public AutoencoderTask(Autoencoder model, DataLoader loader, double klWeight, double mseWeight, double posteriorNoise,
                           double scaleEquivariance, double latentSmoothness) {
        if (klWeight < 0 || mseWeight < 0 || !(scaleEquivariance >= 0) || !(latentSmoothness >= 0)) {
            throw new IllegalArgumentException("loss weights must be >= 0");
        }
        this.scaleEquivariance = scaleEquivariance;
        this.latentSmoothness = latentSmoothness;
        if (!(posteriorNoise >= 0 && posteriorNoise <= 1)) throw new IllegalArgumentException("posterior noise must be in [0, 1], got " + posteriorNoise);
        this.posteriorNoise = posteriorNoise;
        this.model = model;
        this.loader = loader;
        this.klWeight = klWeight;
        this.mseWeight = mseWeight;
    }

    @Override
    public NDArray loss(NDManager scope, long step, Random rng) {
        NDArray x = loader.next().images(scope);                                  // (B, 3, H, W)
        NDArray[] stats = model.encode(x);
        NDArray mean = stats[0];
        NDArray logvar = stats[1].clip(-30f, 20f);                                // (B, C, h, w)
        NDArray noise = Randn.randn(scope, mean.getShape(), rng);                      // drawn even at 0: same random stream
        NDArray z = posteriorNoise == 0 ? mean : mean.add(logvar.mul(0.5f).exp().mul(noise).mul((float) posteriorNoise));
        NDArray loss = reconstruction(model.decode(z), x);
        int f = rng.nextBoolean() ? 2 : 4;                                         // drawn even when off: same random stream
        if (scaleEquivariance > 0) {
            if (z.getShape().get(2) % f != 0 || z.getShape().get(3) % f != 0) f = 2;                 // e.g. a 6x6 latent
            NDArray small = reconstruction(model.decode(Ops.areaDownsample(z, f)), Ops.areaDownsample(x, f));
            loss = loss.add(small.mul((float) scaleEquivariance));
        }
        if (latentSmoothness > 0) loss = loss.add(Ops.highFrequencyShare(mean).mul((float) latentSmoothness));
        if (klWeight > 0) {
            long b = mean.getShape().get(0);
            NDArray kl = mean.square().add(logvar.exp()).sub(1f).sub(logvar).sum().mul(0.5f / b);
            loss = loss.add(kl.mul((float) klWeight));
        }
        return loss;
    }

    /** |x − r|₁ + mseWeight·(x − r)², each averaged over elements. */
    private NDArray reconstruction(NDArray recon, NDArray x) {
        NDArray diff = recon.sub(x);
        NDArray loss = diff.abs().mean();
        return mseWeight > 0 ? loss.add(diff.square().mean().mul((float) mseWeight)) : loss;
    }

    @Override
    public long dataPosition() { return loader.position(); }

    @Override
    public void seekData(long position) { loader.seek(position); }
}
