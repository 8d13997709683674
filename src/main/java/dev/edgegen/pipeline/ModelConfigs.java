package dev.edgegen.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgegen.text.ClipTextConfig;
import dev.edgegen.unet.UNetConfig;
import dev.edgegen.vae.VAEConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The configs of a model's components, read without touching weights. {@code clip} is null for
 * EdgeGen's own models, whose text encoder is the frozen MiniLM ({@code contextLength} tokens).
 */
public record ModelConfigs(String name, UNetConfig unet, VAEConfig vae, ClipTextConfig clip, int contextLength) {
    public static ModelConfigs of(Architecture a) {
        return new ModelConfigs(a.cliName, a.unet, a.vae, a.text, a.text.maxPositionEmbeddings());
    }

    public static ModelConfigs read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a model directory (single-file checkpoints are SD-1.5: use --arch sd15)");
        }
        Path textConfig = dir.resolve("text_encoder/config.json");
        UNetConfig unet = UNetConfig.readJson(dir.resolve("unet/config.json"));
        VAEConfig vae = VAEConfig.readJson(dir.resolve("vae/config.json"));
        JsonNode raw = ModelLoader.readJson(textConfig);
        if (raw.path("architectures").path(0).asText("").equals("BertModel")) {
            return new ModelConfigs(dir.getFileName().toString(), unet, vae, null, raw.path("edgegen_max_tokens").asInt(0));
        }
        ClipTextConfig clip = ClipTextConfig.read(textConfig);
        return new ModelConfigs(dir.getFileName().toString(), unet, vae, clip, clip.maxPositionEmbeddings());
    }
}
