package dev.edgegen.pipeline;

import dev.edgegen.text.ClipTextConfig;
import dev.edgegen.unet.UNetConfig;
import dev.edgegen.vae.VAEConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** The configs of a model's components, read without touching weights. */
public record ModelConfigs(String name, UNetConfig unet, VAEConfig vae, ClipTextConfig text) {
    public static ModelConfigs read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a model directory (single-file checkpoints are SD-1.5: use --arch sd15)");
        }
        return new ModelConfigs(dir.getFileName().toString(),
                UNetConfig.readJson(dir.resolve("unet/config.json")),
                VAEConfig.readJson(dir.resolve("vae/config.json")),
                ClipTextConfig.read(dir.resolve("text_encoder/config.json")));
    }
}
