package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.data.Batch;
import dev.edgegen.data.DataLoader;
import dev.edgegen.tensor.Randn;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * KL autoencoder training (Kingma &amp; Welling 2014; the LDM first stage without its GAN and
 * perceptual terms): z = μ + σ·ε, loss = |x − D(z)|₁ + mseWeight·(x − D(z))² + klWeight·KL(q(z|x) ‖ N(0, I)),
 * with the KL summed over latent elements and averaged over the batch, as LDM does. With {@code posteriorNoise}
 * &lt; 1 the sample is z = μ + posteriorNoise·σ·ε (0: the decoder sees the mean; the KL term still keeps μ near
 * N(0, I)).
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

    public AutoencoderTask(Autoencoder model, DataLoader loader, double klWeight, double mseWeight) {
        this(model, loader, klWeight, mseWeight, 1);
    }

    public AutoencoderTask(Autoencoder model, DataLoader loader, double klWeight, double mseWeight, double posteriorNoise) {
        if (klWeight < 0 || mseWeight < 0) throw new IllegalArgumentException("loss weights must be >= 0");
        if (!(posteriorNoise >= 0 && posteriorNoise <= 1)) throw new IllegalArgumentException("posterior noise must be in [0, 1], got " + posteriorNoise);
        this.posteriorNoise = posteriorNoise;
        this.model = model;
        this.loader = loader;
        this.klWeight = klWeight;
        this.mseWeight = mseWeight;
    }

    @Override
    public NDArray loss(NDManager scope, long step, Random rng) {
        return loss(scope, loader.next(), rng);
    }

    /** The batch in {@code parts} slices, each with a generator of its own seeded from {@code rng}; a slice's loss is its mean weighted by its share. */
    @Override
    public List<Function<NDManager, NDArray>> split(NDManager scope, long step, Random rng, int parts) {
        Batch batch = loader.next();
        int b = batch.size();
        List<Function<NDManager, NDArray>> out = new ArrayList<>();
        for (int k = 0; k < parts; k++) {
            Batch slice = batch.slice(k * b / parts, (k + 1) * b / parts);
            Random sliceRng = new Random(rng.nextLong());
            float share = slice.size() / (float) b;
            out.add(partScope -> loss(partScope, slice, sliceRng).mul(share));
        }
        return out;
    }

    private NDArray loss(NDManager scope, Batch batch, Random rng) {
        NDArray x = batch.images(scope);                                          // (B, 3, H, W)
        NDArray[] stats = model.encode(x);
        NDArray mean = stats[0];
        NDArray logvar = stats[1].clip(-30f, 20f);                                // (B, C, h, w)
        NDArray noise = Randn.randn(scope, mean.getShape(), rng);                      // drawn even at 0: same random stream
        NDArray z = posteriorNoise == 0 ? mean : mean.add(logvar.mul(0.5f).exp().mul(noise).mul((float) posteriorNoise));
        NDArray recon = model.decode(z);
        NDArray diff = recon.sub(x);
        NDArray loss = diff.abs().mean();
        if (mseWeight > 0) loss = loss.add(diff.square().mean().mul((float) mseWeight));
        if (klWeight > 0) {
            long b = mean.getShape().get(0);
            NDArray kl = mean.square().add(logvar.exp()).sub(1f).sub(logvar).sum().mul(0.5f / b);
            loss = loss.add(kl.mul((float) klWeight));
        }
        return loss;
    }

    @Override
    public long dataPosition() { return loader.position(); }

    @Override
    public void seekData(long position) { loader.seek(position); }
}
