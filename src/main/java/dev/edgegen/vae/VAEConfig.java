package dev.edgegen.vae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Architecture of a diffusers AutoencoderKL (DownEncoderBlock2D / UpDecoderBlock2D stages, a
 * mid block with one self-attention).
 *
 * @param inChannels       image channels in (3)
 * @param outChannels      image channels out (3)
 * @param latentChannels   latent channels (4)
 * @param blockOutChannels encoder stage widths, e.g. (128, 256, 512, 512); the decoder runs them reversed
 * @param layersPerBlock   resnets per encoder stage; decoder stages have one more
 * @param normNumGroups    GroupNorm groups (32)
 * @param scalingFactor    latents are multiplied by this after encoding (0.18215 for SD-1.x)
 * @param sampleSize       default image size (512)
 * @param latentsMean      per-channel latent mean, or empty (diffusers' optional {@code latents_mean}, as SDXL
 *                         pipelines read it): the diffusion model sees (z − mean) · scaling_factor / std
 * @param latentsStd       per-channel latent std, or empty (then 1); non-empty only with latentsMean
 * @param normEps          epsilon of every GroupNorm: 1e-6 in diffusers (fixed there, so SD files never set it);
 *                         EdgeGen's own small autoencoders may set a larger one ({@code norm_eps}, an EdgeGen key):
 *                         with 1e-6 the near-constant features of flat backgrounds are divided by almost nothing
 */
public record VAEConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
                        int layersPerBlock, int normNumGroups, float scalingFactor, int sampleSize,
                        List<Float> latentsMean, List<Float> latentsStd, float normEps) {

    /** A config without per-channel latent statistics (every SD-1.x VAE). */
    public VAEConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
                     int layersPerBlock, int normNumGroups, float scalingFactor, int sampleSize) {
        this(inChannels, outChannels, latentChannels, blockOutChannels, layersPerBlock, normNumGroups, scalingFactor,
                sampleSize, List.of(), List.of(), EPS);
    }

    /** diffusers' GroupNorm epsilon for every AutoencoderKL. */
    public static final float EPS = 1e-6f;

    public VAEConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        if (blockOutChannels.isEmpty()) throw new IllegalArgumentException("VAE block_out_channels is empty");
        if (inChannels <= 0 || outChannels <= 0 || latentChannels <= 0) {
            throw new IllegalArgumentException("VAE in/out/latent channels must be positive, got "
                    + inChannels + ", " + outChannels + ", " + latentChannels);
        }
        if (layersPerBlock < 1) throw new IllegalArgumentException("VAE layers_per_block must be at least 1, got " + layersPerBlock);
        if (normNumGroups <= 0) throw new IllegalArgumentException("VAE norm_num_groups must be positive, got " + normNumGroups);
        for (int i = 0; i < blockOutChannels.size(); i++) {
            int c = blockOutChannels.get(i);
            if (c <= 0 || c % normNumGroups != 0) {
                throw new IllegalArgumentException("VAE block_out_channels[" + i + "] = " + c
                        + " must be a positive multiple of norm_num_groups = " + normNumGroups);
            }
        }
        if (!(scalingFactor > 0)) throw new IllegalArgumentException("VAE scaling_factor must be positive, got " + scalingFactor);
        if (sampleSize <= 0) throw new IllegalArgumentException("VAE sample_size must be positive, got " + sampleSize);
        latentsMean = List.copyOf(latentsMean);
        latentsStd = List.copyOf(latentsStd);
        if (!latentsMean.isEmpty() && latentsMean.size() != latentChannels
                || !latentsStd.isEmpty() && latentsStd.size() != (latentsMean.isEmpty() ? -1 : latentChannels)) {
            throw new IllegalArgumentException("VAE latents_mean / latents_std must list one value per latent channel ("
                    + latentChannels + "), latents_std only together with latents_mean; got " + latentsMean + " / " + latentsStd);
        }
        for (float v : latentsStd) {
            if (!(v > 0)) throw new IllegalArgumentException("VAE latents_std values must be positive, got " + latentsStd);
        }
        if (!(normEps > 0 && normEps <= 1)) throw new IllegalArgumentException("VAE norm_eps must be in (0, 1], got " + normEps);
        for (float v : latentsMean) {
            if (!Float.isFinite(v)) throw new IllegalArgumentException("VAE latents_mean values must be finite, got " + latentsMean);
        }
    }

    /** This config with per-channel latent statistics and a new scaling factor (a trained autoencoder's measured latents). */
    public VAEConfig withLatentStats(List<Float> mean, List<Float> std, float scaling) {
        return new VAEConfig(inChannels, outChannels, latentChannels, blockOutChannels, layersPerBlock, normNumGroups,
                scaling, sampleSize, mean, std, normEps);
    }

    /** Image pixels per latent pixel along each axis (8 for SD). */
    public int downscale() { return 1 << (blockOutChannels.size() - 1); }

    /** Stable Diffusion 1.x VAE (runwayml/stable-diffusion-v1-5 vae/config.json). */
    public static VAEConfig sd15() {
        return new VAEConfig(3, 3, 4, List.of(128, 256, 512, 512), 2, 32, 0.18215f, 512);
    }

    /** A very small VAE for tests: widths (32, 64), one resnet per stage, downscale 2. */
    public static VAEConfig tiny() {
        return new VAEConfig(3, 3, 4, List.of(32, 64), 1, 8, 0.18215f, 16);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public static VAEConfig readJson(Path file) {
        try {
            return fromJson(JSON.readTree(file.toFile()), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read VAE config " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses a diffusers AutoencoderKL config; {@code source} names it in error messages. */
    public static VAEConfig fromJson(JsonNode root, String source) {
        String cls = root.path("_class_name").asText("AutoencoderKL");
        if (!cls.equals("AutoencoderKL")) {
            throw new IllegalArgumentException(source + ": _class_name is " + cls + ", expected AutoencoderKL");
        }
        JsonNode ch = root.get("block_out_channels");
        if (ch == null || !ch.isArray()) throw new IllegalArgumentException(source + ": block_out_channels must be a list of integers");
        List<Integer> channels = new ArrayList<>();
        ch.forEach(e -> channels.add(e.asInt()));
        checkTypes(root, "down_block_types", "DownEncoderBlock2D", channels.size(), source);
        checkTypes(root, "up_block_types", "UpDecoderBlock2D", channels.size(), source);
        if (!root.path("act_fn").asText("silu").equals("silu")) {
            throw new IllegalArgumentException(source + ": act_fn " + root.get("act_fn") + " is not supported (only silu)");
        }
        for (String flag : List.of("mid_block_add_attention", "use_quant_conv", "use_post_quant_conv")) {
            if (!root.path(flag).asBoolean(true)) {
                throw new IllegalArgumentException(source + ": " + flag + " = false is not supported");
            }
        }
        return new VAEConfig(root.path("in_channels").asInt(3), root.path("out_channels").asInt(3),
                root.path("latent_channels").asInt(4), channels, root.path("layers_per_block").asInt(1),
                root.path("norm_num_groups").asInt(32), (float) root.path("scaling_factor").asDouble(0.18215),
                root.path("sample_size").asInt(512), floats(root, "latents_mean", source), floats(root, "latents_std", source),
                (float) root.path("norm_eps").asDouble(EPS));
    }

    private static List<Float> floats(JsonNode root, String key, String source) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw new IllegalArgumentException(source + ": " + key + " must be a list of numbers");
        List<Float> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isNumber()) throw new IllegalArgumentException(source + ": " + key + " must be a list of numbers, found " + e);
            out.add(e.floatValue());
        }
        return out;
    }

    private static void checkTypes(JsonNode root, String key, String expected, int n, String source) {
        JsonNode v = root.get(key);
        if (v == null) return;
        if (!v.isArray() || v.size() != n) {
            throw new IllegalArgumentException(source + ": " + key + " must list " + n + " block types (one per stage)");
        }
        for (JsonNode e : v) {
            if (!e.asText().equals(expected)) {
                throw new IllegalArgumentException(source + ": unsupported VAE block type '" + e.asText() + "' in " + key
                        + "; supported: " + expected);
            }
        }
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("_class_name", "AutoencoderKL");
        o.put("act_fn", "silu");
        ArrayNode ch = o.putArray("block_out_channels");
        blockOutChannels.forEach(ch::add);
        ArrayNode down = o.putArray("down_block_types");
        Collections.nCopies(blockOutChannels.size(), "DownEncoderBlock2D").forEach(down::add);
        o.put("in_channels", inChannels);
        o.put("latent_channels", latentChannels);
        o.put("layers_per_block", layersPerBlock);
        o.put("norm_num_groups", normNumGroups);
        o.put("out_channels", outChannels);
        o.put("sample_size", sampleSize);
        o.put("scaling_factor", scalingFactor);
        if (!latentsMean.isEmpty()) {
            ArrayNode m = o.putArray("latents_mean");
            latentsMean.forEach(m::add);
        }
        if (!latentsStd.isEmpty()) {
            ArrayNode sd = o.putArray("latents_std");
            latentsStd.forEach(sd::add);
        }
        if (normEps != EPS) o.put("norm_eps", normEps);
        ArrayNode up = o.putArray("up_block_types");
        Collections.nCopies(blockOutChannels.size(), "UpDecoderBlock2D").forEach(up::add);
        return o;
    }

    public void writeJson(Path file) {
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write VAE config " + file + ": " + e.getMessage(), e);
        }
    }
}
