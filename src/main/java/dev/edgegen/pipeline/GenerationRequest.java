package dev.edgegen.pipeline;

import java.nio.file.Path;

/**
 * Everything that determines a generated image. Validated here, at the edge: a request that
 * constructs is one the pipeline can run.
 *
 * @param initImage   img2img source image (PNG/JPEG), or null for text-to-image
 * @param strength    img2img: fraction of the schedule re-run, in (0, 1]
 * @param latents     optional .safetensors with tensor "latents" (B, 4, H/8, W/8), replaces seeded noise
 * @param promptEmbeds optional .safetensors with tensor "prompt_embeds" (B|1, L, D), replaces the text encoder
 * @param guidanceRescale φ in [0, 1]: blend the guided prediction with its copy rescaled to the conditional
 *                    prediction's standard deviation (Lin et al. 2024, eq. 15-16; diffusers' {@code guidance_rescale}),
 *                    against the over-exposure of strong guidance on zero-terminal-SNR models; 0 = off
 */
public record GenerationRequest(
        String prompt,
        String negativePrompt,
        int steps,
        float cfgScale,
        String sampler,
        long seed,
        int width,
        int height,
        int batch,
        Path initImage,
        float strength,
        Path latents,
        Path promptEmbeds,
        Path negativePromptEmbeds,
        float guidanceRescale) {

    public static final int MAX_SIDE = 2048;

    /** A request without guidance rescale. */
    public GenerationRequest(String prompt, String negativePrompt, int steps, float cfgScale, String sampler, long seed,
                             int width, int height, int batch, Path initImage, float strength, Path latents,
                             Path promptEmbeds, Path negativePromptEmbeds) {
        this(prompt, negativePrompt, steps, cfgScale, sampler, seed, width, height, batch, initImage, strength, latents,
                promptEmbeds, negativePromptEmbeds, 0f);
    }

    public GenerationRequest {
        if (prompt == null) prompt = "";
        if (negativePrompt == null) negativePrompt = "";
        if (steps <= 0) throw new IllegalArgumentException("--steps must be at least 1 (got " + steps + ")");
        if (steps > 1000) throw new IllegalArgumentException("--steps must be at most 1000 (got " + steps + ")");
        checkSide("width (-W)", width);
        checkSide("height (-H)", height);
        if (batch < 1 || batch > 64) throw new IllegalArgumentException("--batch must be between 1 and 64 (got " + batch + ")");
        if (!Float.isFinite(cfgScale) || cfgScale < 0) {
            throw new IllegalArgumentException("--cfg-scale must be a finite number >= 0 (got " + cfgScale + ")");
        }
        if (initImage != null && !(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("--strength must be in (0, 1] (got " + strength + ")");
        }
        if (!(guidanceRescale >= 0 && guidanceRescale <= 1)) {
            throw new IllegalArgumentException("--guidance-rescale must be in [0, 1] (got " + guidanceRescale + ")");
        }
        if (sampler == null || sampler.isBlank()) sampler = "ddim";
    }

    private static void checkSide(String name, int v) {
        if (v <= 0 || v % 8 != 0) {
            throw new IllegalArgumentException(name + " must be a positive multiple of 8 (got " + v + "); try " + Math.max(8, Math.round(v / 8.0f) * 8));
        }
        if (v > MAX_SIDE) throw new IllegalArgumentException(name + " must be at most " + MAX_SIDE + " (got " + v + ")");
    }

    /** Classifier-free guidance runs only for scales above 1, as in diffusers. */
    public boolean guided() {
        return cfgScale > 1f;
    }
}
