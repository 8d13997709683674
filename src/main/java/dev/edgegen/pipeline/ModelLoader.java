package dev.edgegen.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.edgegen.io.LdmKeyMap;
import dev.edgegen.io.SafetensorsFile;
import dev.edgegen.io.WeightsException;
import dev.edgegen.nn.Module;
import dev.edgegen.sampling.SchedulerConfig;
import dev.edgegen.text.ClipTextConfig;
import dev.edgegen.text.ClipTextModel;
import dev.edgegen.text.ClipTokenizer;
import dev.edgegen.text.MiniLmTextEncoder;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.unet.UNetConfig;
import dev.edgegen.vae.AutoencoderKL;
import dev.edgegen.vae.VAEConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads a text-to-image model from the two layouts users have: a diffusers directory
 * ({@code model_index.json}, {@code unet/}, {@code vae/}, {@code text_encoder/}, {@code tokenizer/},
 * {@code scheduler/}) or a single-file original SD-1.x checkpoint ({@code .safetensors}).
 * Missing, unexpected or mis-shaped tensors are reported by name.
 */
public final class ModelLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelLoader() {}

    public static StableDiffusion load(Path path, NDManager parent) {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("model not found: " + path
                    + " (give a diffusers model directory or an SD-1.x .safetensors file; `edgegen init` makes one)");
        }
        NDManager weights = parent.newSubManager();
        try {
            return Files.isDirectory(path) ? loadDiffusers(path, weights) : loadSingleFile(path, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    private static StableDiffusion loadDiffusers(Path dir, NDManager weights) {
        Path index = dir.resolve("model_index.json");
        if (!Files.isRegularFile(index)) {
            throw new IllegalArgumentException(dir + " is not a diffusers model directory: model_index.json is missing");
        }
        SamplingDefaults sampling = SamplingDefaults.fromIndex(readJson(index), index);
        UNetConfig unetConfig = UNetConfig.readJson(require(dir.resolve("unet/config.json")));
        VAEConfig vaeConfig = VAEConfig.readJson(require(dir.resolve("vae/config.json")));
        SchedulerConfig schedulerConfig = SchedulerConfig.read(require(dir.resolve("scheduler/scheduler_config.json")));
        TextEncoder text = loadTextEncoder(dir, weights);

        UNet2DConditionModel unet = new UNet2DConditionModel(unetConfig);
        loadInto(unet, "unet", weightsFile(dir.resolve("unet")), weights);
        AutoencoderKL vae = new AutoencoderKL(vaeConfig);
        loadInto(vae, "vae", weightsFile(dir.resolve("vae")), weights);
        checkContextWidth(unetConfig, text);
        return new StableDiffusion(dir.getFileName().toString(), text, unet, vae, schedulerConfig, sampling, weights);
    }

    private static TextEncoder loadTextEncoder(Path dir, NDManager weights) {
        Path configPath = require(dir.resolve("text_encoder/config.json"));
        JsonNode config = readJson(configPath);
        String arch = config.path("architectures").path(0).asText("CLIPTextModel");
        if (arch.equals("BertModel")) return loadMiniLm(configPath, config, weights);
        if (!arch.equals("CLIPTextModel")) {
            throw new IllegalArgumentException(configPath + ": unknown text encoder architecture '" + arch
                    + "' (supported: CLIPTextModel, BertModel = all-MiniLM-L6-v2)");
        }
        ClipTextModel clip = new ClipTextModel(ClipTextConfig.read(configPath));
        loadInto(clip, "text_encoder", weightsFile(dir.resolve("text_encoder")), weights);
        ClipTokenizer tokenizer = ClipTokenizer.load(dir.resolve("tokenizer"));
        return new ClipTextEncoder(tokenizer, clip);
    }

    /** EdgeGen's own models: all-MiniLM-L6-v2, weights from its Maven artifact, {@code edgegen_max_tokens} from training. */
    private static TextEncoder loadMiniLm(Path configPath, JsonNode config, NDManager weights) {
        int hidden = config.path("hidden_size").asInt(MiniLmTextEncoder.HIDDEN);
        if (hidden != MiniLmTextEncoder.HIDDEN) {
            throw new IllegalArgumentException(configPath + ": BertModel hidden_size " + hidden
                    + " is not all-MiniLM-L6-v2's " + MiniLmTextEncoder.HIDDEN + " (the only BERT text encoder supported)");
        }
        JsonNode max = config.get("edgegen_max_tokens");
        if (max == null || !max.canConvertToInt()) {
            throw new IllegalArgumentException(configPath + ": edgegen_max_tokens (the prompt length the UNet was trained with) is missing");
        }
        try {
            return new MiniLmEncoder(MiniLmTextEncoder.load(weights, max.asInt()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the MiniLM text encoder", e);
        }
    }

    private static StableDiffusion loadSingleFile(Path file, NDManager weights) {
        if (!file.getFileName().toString().endsWith(".safetensors")) {
            throw new IllegalArgumentException(file + ": single-file checkpoints must be .safetensors "
                    + "(pickled .ckpt files are not loaded, as they can run code)");
        }
        LdmKeyMap.Split split;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            split = LdmKeyMap.split(f, weights, true);
        }
        UNet2DConditionModel unet = new UNet2DConditionModel(UNetConfig.sd15());
        report(unet.load(split.unet()), "unet", file);
        AutoencoderKL vae = new AutoencoderKL(VAEConfig.sd15());
        report(vae.load(split.vae()), "vae", file);
        ClipTextModel clip = new ClipTextModel(ClipTextConfig.vitL14());
        report(clip.load(split.textEncoder()), "text_encoder", file);
        ClipTokenizer tokenizer = ClipTokenizer.realVocabulary().map(ClipTokenizer::load).orElseThrow(() ->
                new IllegalArgumentException(file + " has no tokenizer; fetch CLIP's vocabulary with "
                        + "scripts/fetch-clip-vocab.sh (or give -Dedgegen.clipVocab=DIR with vocab.json and merges.txt)"));
        String name = file.getFileName().toString().replaceFirst("\\.safetensors$", "");
        return new StableDiffusion(name, new ClipTextEncoder(tokenizer, clip), unet, vae,
                SchedulerConfig.sd15(), weights);
    }

    private static void checkContextWidth(UNetConfig unet, TextEncoder text) {
        if (unet.crossAttentionDim() != text.hiddenSize()) {
            throw new IllegalArgumentException("unet cross_attention_dim " + unet.crossAttentionDim()
                    + " does not match the text encoder's hidden size " + text.hiddenSize());
        }
    }

    /** The component's .safetensors file (diffusers' or transformers' name). */
    static Path weightsFile(Path componentDir) {
        for (String n : new String[] {"diffusion_pytorch_model.safetensors", "model.safetensors"}) {
            Path p = componentDir.resolve(n);
            if (Files.isRegularFile(p)) return p;
        }
        throw new IllegalArgumentException(componentDir + ": no weights (expected diffusion_pytorch_model.safetensors "
                + "or model.safetensors; .bin files are not supported, convert them to safetensors)");
    }

    static void loadInto(Module module, String component, Path file, NDManager weights) {
        Map<String, NDArray> tensors;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            tensors = f.loadAll(weights);
            if (component.equals("vae")) tensors = LdmKeyMap.normalizeDiffusersVae(tensors);
            // Older transformers checkpoints carry this constant buffer; it is not a weight.
            NDArray ids = tensors.remove("text_model.embeddings.position_ids");
            if (ids != null) ids.close();
        }
        report(module.load(tensors), component, file);
    }

    private static void report(Module.LoadReport r, String component, Path file) {
        if (!r.missing().isEmpty() || !r.mismatched().isEmpty()) {
            throw new WeightsException(file + ": the " + component + " weights do not fit its config:\n" + r.describe());
        }
        if (!r.unexpected().isEmpty()) {
            System.err.println("edgegen: warning: " + file + ": ignored " + r.unexpected().size()
                    + " tensor(s) the " + component + " does not use: " + r.describe());
        }
    }

    private static Path require(Path p) {
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException("missing file: " + p);
        return p;
    }

    static JsonNode readJson(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(p + ": malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }
}
