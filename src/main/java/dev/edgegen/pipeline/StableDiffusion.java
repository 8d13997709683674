package dev.edgegen.pipeline;

import ai.djl.ndarray.NDManager;
import dev.edgegen.sampling.SchedulerConfig;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.vae.AutoencoderKL;

/** A loaded text-to-image model: its components and the manager that owns their weights. */
public final class StableDiffusion implements AutoCloseable {
    public final String name;
    public final TextEncoder textEncoder;
    public final UNet2DConditionModel unet;
    public final AutoencoderKL vae;
    public final SchedulerConfig scheduler;
    /** What to sample with when the user says nothing: the model's own recommendation, else {@link SamplingDefaults#GENERIC}. */
    public final SamplingDefaults sampling;
    private final NDManager weights;

    public StableDiffusion(String name, TextEncoder textEncoder, UNet2DConditionModel unet,
                           AutoencoderKL vae, SchedulerConfig scheduler, NDManager weights) {
        this(name, textEncoder, unet, vae, scheduler, SamplingDefaults.GENERIC, weights);
    }

    public StableDiffusion(String name, TextEncoder textEncoder, UNet2DConditionModel unet, AutoencoderKL vae,
                           SchedulerConfig scheduler, SamplingDefaults sampling, NDManager weights) {
        this.name = name;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.scheduler = scheduler;
        this.sampling = sampling;
        this.weights = weights;
    }

    public NDManager manager() {
        return weights;
    }

    @Override
    public void close() {
        weights.close();
    }
}
