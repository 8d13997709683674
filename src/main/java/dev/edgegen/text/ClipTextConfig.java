package dev.edgegen.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hyper-parameters of a CLIP text transformer, as in a Hugging Face {@code text_encoder/config.json}
 * ({@code CLIPTextConfig}). Keys missing from a file take Hugging Face's defaults; projection_dim and
 * token ids are not needed here and ignored.
 *
 * @param vocabSize             rows of the token embedding (49408 for CLIP's BPE)
 * @param hiddenSize            width D
 * @param intermediateSize      MLP width (4 D in CLIP)
 * @param numHiddenLayers       transformer layers
 * @param numAttentionHeads     heads; D must divide evenly
 * @param maxPositionEmbeddings context length (77)
 * @param hiddenAct             MLP activation
 * @param layerNormEps          LayerNorm epsilon
 */
public record ClipTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                             int numAttentionHeads, int maxPositionEmbeddings, Activation hiddenAct, float layerNormEps) {

    /** MLP activations CLIP text encoders use, by their config.json names. */
    public enum Activation {
        QUICK_GELU("quick_gelu"), GELU("gelu");

        public final String jsonName;

        Activation(String jsonName) { this.jsonName = jsonName; }

        public static Activation parse(String name) {
            for (Activation a : values()) {
                if (a.jsonName.equals(name)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("unsupported hidden_act \"" + name + "\": use quick_gelu or gelu");
        }
    }

    public ClipTextConfig {
        if (vocabSize < 1 || hiddenSize < 1 || intermediateSize < 1 || numHiddenLayers < 1
                || numAttentionHeads < 1 || maxPositionEmbeddings < 1) {
            throw new IllegalArgumentException("CLIP text config sizes must be positive: " + describe(vocabSize, hiddenSize,
                    intermediateSize, numHiddenLayers, numAttentionHeads, maxPositionEmbeddings));
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (hiddenAct == null) {
            throw new IllegalArgumentException("hidden_act is required");
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        }
    }

    private static String describe(int v, int d, int i, int l, int h, int p) {
        return "vocab_size=" + v + " hidden_size=" + d + " intermediate_size=" + i + " num_hidden_layers=" + l
                + " num_attention_heads=" + h + " max_position_embeddings=" + p;
    }

    /** SD-1.x text encoder: OpenAI CLIP ViT-L/14 text tower (123,060,480 parameters). */
    public static ClipTextConfig vitL14() {
        return new ClipTextConfig(49408, 768, 3072, 12, 12, 77, Activation.QUICK_GELU, 1e-5f);
    }

    /** A 2-layer, 32-wide encoder over the full CLIP vocabulary, for tests and smoke runs. */
    public static ClipTextConfig tiny() {
        return new ClipTextConfig(49408, 32, 64, 2, 4, 77, Activation.QUICK_GELU, 1e-5f);
    }

    public int headDim() { return hiddenSize / numAttentionHeads; }

    /** Reads a config.json (or the config.json inside a folder). */
    public static ClipTextConfig read(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no CLIP text config at " + file.toAbsolutePath()
                    + ": expected a diffusers text_encoder/config.json");
        }
        try {
            JsonNode n = new ObjectMapper().readTree(file.toFile());
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException(file + " is not a JSON object");
            }
            // Full CLIP configs nest the text tower under "text_config".
            if (n.has("text_config") && n.get("text_config").isObject()) {
                n = n.get("text_config");
            }
            return new ClipTextConfig(
                    intOr(n, "vocab_size", 49408), intOr(n, "hidden_size", 512), intOr(n, "intermediate_size", 2048),
                    intOr(n, "num_hidden_layers", 12), intOr(n, "num_attention_heads", 8),
                    intOr(n, "max_position_embeddings", 77),
                    Activation.parse(n.has("hidden_act") ? n.get("hidden_act").asText() : "quick_gelu"),
                    n.has("layer_norm_eps") ? (float) n.get("layer_norm_eps").asDouble() : 1e-5f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static int intOr(JsonNode n, String key, int fallback) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.canConvertToInt()) {
            throw new IllegalArgumentException(key + " must be an integer, got " + v);
        }
        return v.intValue();
    }

    /** Writes a Hugging Face-compatible text_encoder/config.json. */
    public void write(Path file) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode n = json.createObjectNode();
        n.putArray("architectures").add("CLIPTextModel");
        n.put("model_type", "clip_text_model");
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("hidden_act", hiddenAct.jsonName);
        n.put("layer_norm_eps", Double.parseDouble(Float.toString(layerNormEps)));
        n.put("bos_token_id", 49406);
        n.put("eos_token_id", 49407);
        n.put("pad_token_id", 1);
        n.put("torch_dtype", "float32");
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), n);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
