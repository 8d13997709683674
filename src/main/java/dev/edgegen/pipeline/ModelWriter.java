package dev.edgegen.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.io.Safetensors;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Parameter;
import dev.edgegen.text.ClipTextModel;
import dev.edgegen.text.ClipTokenizer;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.vae.AutoencoderKL;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a complete diffusers-layout model directory. The directory is assembled under a
 * temporary name and renamed into place at the end, so an interrupted write leaves nothing
 * that looks like a model.
 */
public final class ModelWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelWriter() {}

    /** A model of architecture {@code arch} with random weights (std 0.02 normal, unit norms). */
    public static void writeRandom(Architecture arch, long seed, Path out, NDManager manager) {
        if (Files.exists(out)) {
            throw new IllegalArgumentException(out + " already exists; choose a new output directory");
        }
        Path tmp = out.resolveSibling(out.getFileName() + ".partial");
        try {
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            writeIndex(tmp, arch.cliName);
            arch.unet.writeJson(dirOf(tmp, "unet").resolve("config.json"));
            arch.vae.writeJson(dirOf(tmp, "vae").resolve("config.json"));
            arch.text.write(dirOf(tmp, "text_encoder").resolve("config.json"));
            arch.scheduler().write(dirOf(tmp, "scheduler").resolve("scheduler_config.json"), "DDIMScheduler");
            ClipTokenizer.writeVocabulary(dirOf(tmp, "tokenizer"));
            writeWeights(new UNet2DConditionModel(arch.unet), seed, tmp.resolve("unet/diffusion_pytorch_model.safetensors"), manager);
            writeWeights(new AutoencoderKL(arch.vae), seed + 1, tmp.resolve("vae/diffusion_pytorch_model.safetensors"), manager);
            writeWeights(new ClipTextModel(arch.text), seed + 2, tmp.resolve("text_encoder/model.safetensors"), manager);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write model directory " + out, e);
        }
    }

    /** Initialises {@code module} from {@code seed} and saves it; weights are freed afterwards. */
    static void writeWeights(Module module, long seed, Path file, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            module.initialize(scope, 0.02f, seed);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : module.parameters().entrySet()) {
                tensors.put(e.getKey(), e.getValue().get());
            }
            Safetensors.write(file, tensors, Map.of("format", "pt"));
        }
    }

    private static void writeIndex(Path dir, String name) throws IOException {
        ObjectNode index = JSON.createObjectNode();
        index.put("_class_name", "StableDiffusionPipeline");
        index.put("_edgegen_architecture", name);
        index.putArray("text_encoder").add("transformers").add("CLIPTextModel");
        index.putArray("tokenizer").add("transformers").add("CLIPTokenizer");
        index.putArray("unet").add("diffusers").add("UNet2DConditionModel");
        index.putArray("vae").add("diffusers").add("AutoencoderKL");
        index.putArray("scheduler").add("diffusers").add("DDIMScheduler");
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("model_index.json").toFile(), index);
    }

    private static Path dirOf(Path root, String name) throws IOException {
        return Files.createDirectories(root.resolve(name));
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
