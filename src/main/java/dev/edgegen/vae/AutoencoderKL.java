package dev.edgegen.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Scope;

/**
 * diffusers' AutoencoderKL (the Stable Diffusion VAE). Keys: encoder.*, quant_conv, post_quant_conv,
 * decoder.*. {@link #decode} takes raw latents: the diffusion model's latents go through
 * {@link #fromDiffusionLatents} first (÷ scaling_factor, and the per-channel statistics when the config has them).
 */
public final class AutoencoderKL extends Module {
    public final VAEConfig config;
    public final Encoder encoder;
    public final Decoder decoder;
    public final Conv2d quantConv;
    public final Conv2d postQuantConv;

    public AutoencoderKL(VAEConfig config) {
        this.config = config;
        encoder = register("encoder", new Encoder(config));
        decoder = register("decoder", new Decoder(config));
        int l = config.latentChannels();
        quantConv = register("quant_conv", new Conv2d(2 * l, 2 * l, 1, 1, 0));
        postQuantConv = register("post_quant_conv", new Conv2d(l, l, 1, 1, 0));
    }

    /**
     * Raw latents z (B, C, h, w) → the diffusion model's latents: z · scaling_factor, or with per-channel
     * statistics (z − latents_mean) · scaling_factor / latents_std.
     */
    public NDArray toDiffusionLatents(NDArray z) {
        if (config.latentsMean().isEmpty()) return z.mul(config.scalingFactor());
        NDManager m = z.getManager();
        try (NDArray mean = channelVector(m, config.latentsMean()); NDArray std = channelVector(m, stdOrOnes());
             NDArray centred = z.sub(mean)) {
            return centred.div(std).muli(config.scalingFactor());
        }
    }

    /** Inverse of {@link #toDiffusionLatents}: the diffusion model's latents → raw latents for {@link #decode}. */
    public NDArray fromDiffusionLatents(NDArray latents) {
        if (config.latentsMean().isEmpty()) return latents.div(config.scalingFactor());
        NDManager m = latents.getManager();
        try (NDArray mean = channelVector(m, config.latentsMean()); NDArray std = channelVector(m, stdOrOnes())) {
            return latents.mul(std).divi(config.scalingFactor()).addi(mean);
        }
    }

    private java.util.List<Float> stdOrOnes() {
        return config.latentsStd().isEmpty() ? java.util.Collections.nCopies(config.latentChannels(), 1f) : config.latentsStd();
    }

    private static NDArray channelVector(NDManager m, java.util.List<Float> v) {   // (1, C, 1, 1)
        float[] a = new float[v.size()];
        for (int i = 0; i < a.length; i++) a[i] = v.get(i);
        return m.create(a, new ai.djl.ndarray.types.Shape(1, a.length, 1, 1));
    }

    /** z: (B, latent, h, w) → image (B, out, f·h, f·w), roughly in [-1, 1]. */
    public NDArray decode(NDArray z) {
        var s = z.getShape();
        if (s.dimension() != 4 || s.get(1) != config.latentChannels()) {
            throw new IllegalArgumentException("VAE decode expects latents (B, " + config.latentChannels() + ", h, w), got " + s);
        }
        return Scope.run(z, () -> decoder.forward(postQuantConv.forward(z)));
    }

    /** x: image (B, in, H, W) in [-1, 1], H and W multiples of the downscale factor → posterior over latents. */
    public Posterior encode(NDArray x) {
        var s = x.getShape();
        int f = config.downscale();
        if (s.dimension() != 4 || s.get(1) != config.inChannels() || s.get(2) % f != 0 || s.get(3) % f != 0) {
            throw new IllegalArgumentException("VAE encode expects images (B, " + config.inChannels()
                    + ", H, W) with H and W multiples of " + f + ", got " + s);
        }
        NDManager parent = x.getManager();
        try (NDManager sub = parent.newSubManager()) {
            x.tempAttach(sub);
            NDArray moments = quantConv.forward(encoder.forward(x));   // (B, 2·latent, h, w)
            NDList parts = moments.split(2, 1);
            NDArray mean = parts.get(0);                                 // not duplicate(): that detaches it from autograd
            NDArray logvar = parts.get(1).clip(-30f, 20f);
            mean.attach(parent);
            logvar.attach(parent);
            return new Posterior(mean, logvar);
        }
    }

    /** Parameters used by decoding: decoder.* and post_quant_conv. */
    public long decoderParameterCount() {
        return decoder.parameterCount() + postQuantConv.parameterCount();
    }

    /** Parameters used by encoding: encoder.* and quant_conv. */
    public long encoderParameterCount() {
        return encoder.parameterCount() + quantConv.parameterCount();
    }

    /** FLOPs of {@link #decode} at an h×w latent. */
    public long decodeFlops(int batch, int latentH, int latentW) {
        return (long) batch * latentH * latentW * postQuantConv.flopsPerOutputPixel() + decoder.flops(batch, latentH, latentW);
    }

    /** FLOPs of {@link #encode} at an H×W image. */
    public long encodeFlops(int batch, int height, int width) {
        int f = config.downscale();
        return encoder.flops(batch, height, width) + (long) batch * (height / f) * (width / f) * quantConv.flopsPerOutputPixel();
    }
}
