package dev.edgegen.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.io.Images;
import dev.edgegen.io.SafetensorsFile;
import dev.edgegen.sampling.Sampler;
import dev.edgegen.sampling.Scheduler;
import dev.edgegen.tensor.Randn;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The denoising loop: text → context, seeded noise → [UNet + guidance + sampler step] × steps →
 * latents → decoder → images. Classifier-free guidance runs the unconditional and conditional
 * halves in one batched UNet call. Every step runs in its own NDManager scope, so native memory
 * stays flat over any number of steps.
 */
public final class TextToImage {
    /** Called after every denoising step (for progress bars and previews). */
    public interface StepListener {
        void onStep(int step, int total, float timestep);
    }

    /** Milliseconds spent per component. */
    public record Timings(double textEncoderMs, double unetMs, double decoderMs, double totalMs, int unetCalls) {}

    /** The images, the final latents (before decoding) and the timings. */
    public record Result(List<BufferedImage> images, float[] finalLatents, Shape latentShape, Timings timings,
                         boolean promptTruncated) {}

    private final StableDiffusion model;

    public TextToImage(StableDiffusion model) {
        this.model = model;
    }

    /** The model this pipeline samples from. */
    public StableDiffusion model() { return model; }

    public Result generate(GenerationRequest r, StepListener listener) {
        long t0 = System.nanoTime();
        Scheduler scheduler = Sampler.byName(r.sampler()).create(model.scheduler);
        scheduler.setTimesteps(r.steps());
        try (NDManager run = model.manager().newSubManager()) {
            // 1. Context (2B or B, L, D): [negative; positive] when guided.
            long te = System.nanoTime();
            boolean truncated = model.textEncoder.tokenize(r.prompt()).truncated();
            NDArray context = context(r, run);
            double textMs = (System.nanoTime() - te) / 1e6;

            // 2. Initial latents (B, 4, h, w).
            int f = model.vae.config.downscale();
            if (r.width() % f != 0 || r.height() % f != 0) {
                throw new IllegalArgumentException("width and height must be multiples of " + f + " for this model");
            }
            int h = r.height() / f;
            int w = r.width() / f;
            int ch = model.unet.config.inChannels();
            Shape latentShape = new Shape(r.batch(), ch, h, w);
            Random noiseRng = new Random(r.seed());
            NDArray noise = r.latents() != null
                    ? loadTensor(r.latents(), "latents", latentShape, run)
                    : Randn.randn(run, latentShape, noiseRng);
            int start = 0;
            NDArray x;
            if (r.initImage() != null) {
                // img2img: encode, then noise to the level of the first step kept (diffusers' strength rule).
                start = scheduler.startIndex(r.strength());
                NDArray image = Images.toArray(resized(Images.readImage(r.initImage()), r.width(), r.height()), run); // (3, H, W) in [0, 1]
                NDArray batchImage = image.mul(2).sub(1).expandDims(0).repeat(0, r.batch());
                NDArray z = model.vae.toDiffusionLatents(model.vae.encode(batchImage).sample(noiseRng));
                x = start >= r.steps() ? z : scheduler.addNoise(z, noise, start);
            } else {
                x = noise.mul(scheduler.initNoiseSigma());
            }

            // 3. Denoising loop.
            Random stepRng = new Random(r.seed() ^ 0x5DEECE66DL);
            long tu = System.nanoTime();
            float[] timesteps = scheduler.timesteps();
            int calls = 0;
            for (int i = start; i < timesteps.length; i++) {
                NDArray eps;
                try (NDManager step = run.newSubManager()) {
                    // UNet intermediates live in the step scope; only the prediction survives it.
                    x.tempAttach(step);
                    context.tempAttach(step);
                    eps = predict(scheduler.scaleModelInput(x, i), timesteps[i], context, r, step);
                    eps.attach(run);
                }
                calls++;
                // The sampler's result and any state it keeps (DPM's previous estimate) belong to the run.
                NDArray next = scheduler.step(eps, i, x, stepRng);
                eps.close();
                if (next != x) x.close();
                x = next;
                if (listener != null) listener.onStep(i - start + 1, timesteps.length - start, timesteps[i]);
            }
            double unetMs = (System.nanoTime() - tu) / 1e6;
            if (hasNonFinite(x)) {
                throw new IllegalStateException("the latents became NaN or infinite during sampling; "
                        + "try a lower --cfg-scale or another --sampler, or check the model weights");
            }
            float[] finalLatents = x.toFloatArray();

            // 4. Decode (B, 3, H, W) in [-1, 1] → images.
            long td = System.nanoTime();
            List<BufferedImage> images = new ArrayList<>();
            for (int b = 0; b < r.batch(); b++) {
                try (NDManager dec = run.newSubManager()) {
                    NDArray zb = x.get(b).expandDims(0);
                    zb.attach(dec);
                    NDArray img = model.vae.decode(model.vae.fromDiffusionLatents(zb));
                    images.addAll(Images.fromBatch(img));
                }
            }
            double decMs = (System.nanoTime() - td) / 1e6;
            double total = (System.nanoTime() - t0) / 1e6;
            return new Result(Collections.unmodifiableList(images), finalLatents, latentShape,
                    new Timings(textMs, unetMs, decMs, total, calls), truncated);
        }
    }

    /** One guided noise prediction: a single UNet call on [uncond; cond] when guided. */
    private NDArray predict(NDArray x, float t, NDArray context, GenerationRequest r, NDManager step) {
        if (!r.guided()) {
            NDArray ts = step.full(new Shape(x.getShape().get(0)), t);
            return model.unet.forward(x, ts, context);
        }
        NDArray both = NDArrays.concat(new ai.djl.ndarray.NDList(x, x), 0);
        NDArray ts = step.full(new Shape(both.getShape().get(0)), t);
        NDArray out = model.unet.forward(both, ts, context);
        long b = x.getShape().get(0);
        NDArray uncond = out.get("0:" + b);
        NDArray cond = out.get(b + ":");
        NDArray guided = uncond.add(cond.sub(uncond).muli(r.cfgScale()));
        return r.guidanceRescale() > 0 ? rescaleGuidance(guided, cond, r.guidanceRescale()) : guided;
    }

    /**
     * φ · guided · std(cond) / std(guided) + (1 − φ) · guided, with per-sample standard deviations over (C, H, W)
     * (Bessel-corrected, as torch.std): guided, cond (B, C, h, w).
     */
    static NDArray rescaleGuidance(NDArray guided, NDArray cond, float phi) {
        NDArray ratio = std(cond).div(std(guided));                                            // (B, 1, 1, 1)
        return guided.mul(ratio.mul(phi).add(1 - phi));
    }

    /** Per-sample standard deviation (B, 1, 1, 1) of x (B, ...), with n − 1 in the denominator. */
    private static NDArray std(NDArray x) {
        long b = x.getShape().get(0);
        NDArray flat = x.reshape(b, -1);                                                       // (B, N)
        long n = flat.getShape().get(1);
        NDArray centred = flat.sub(flat.mean(new int[] {1}, true));
        return centred.square().sum(new int[] {1}).div(n - 1).sqrt().reshape(b, 1, 1, 1);
    }

    /** (2B, L, D) [negative; positive] when guided, else (B, L, D). */
    private NDArray context(GenerationRequest r, NDManager run) {
        NDArray pos = r.promptEmbeds() != null
                ? repeatTo(loadTensor(r.promptEmbeds(), "prompt_embeds", null, run), r.batch())
                : model.textEncoder.encode(Collections.nCopies(r.batch(), r.prompt()), run);
        if (!r.guided()) return pos;
        NDArray neg = r.negativePromptEmbeds() != null
                ? repeatTo(loadTensor(r.negativePromptEmbeds(), "prompt_embeds", null, run), r.batch())
                : model.textEncoder.encode(Collections.nCopies(r.batch(), r.negativePrompt()), run);
        if (!neg.getShape().equals(pos.getShape())) {
            throw new IllegalArgumentException("negative prompt embeddings " + neg.getShape()
                    + " do not match prompt embeddings " + pos.getShape());
        }
        return NDArrays.concat(new ai.djl.ndarray.NDList(neg, pos), 0);
    }

    private static NDArray repeatTo(NDArray e, int batch) {
        long b = e.getShape().get(0);
        if (b == batch) return e;
        if (b == 1) return e.repeat(0, batch);
        throw new IllegalArgumentException("embeddings have batch " + b + " but --batch is " + batch);
    }

    private static NDArray loadTensor(Path file, String name, Shape expected, NDManager m) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!f.keys().contains(name)) {
                throw new IllegalArgumentException(file + ": no tensor named '" + name + "' (found " + f.keys() + ")");
            }
            NDArray t = f.load(name, m).toType(DataType.FLOAT32, false);
            if (expected != null && !t.getShape().equals(expected)) {
                throw new IllegalArgumentException(file + ": tensor '" + name + "' has shape " + t.getShape()
                        + " but this generation needs " + expected + " (batch, channels, H/8, W/8)");
            }
            return t;
        }
    }

    /** The init image scaled to the generation size (bilinear). */
    private static BufferedImage resized(BufferedImage src, int w, int h) {
        if (src.getWidth() == w && src.getHeight() == h) return src;
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = out.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION, java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(src, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

    private static boolean hasNonFinite(NDArray x) {
        return x.isNaN().any().getBoolean() || x.isInfinite().any().getBoolean();
    }
}
