package dev.edgegen.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipTextConfigTest {

    /** The text_encoder/config.json layout diffusers ships with SD-1.5 (openai/clip-vit-large-patch14). */
    private static final String SD15 = """
            {"_name_or_path": "openai/clip-vit-large-patch14", "architectures": ["CLIPTextModel"],
             "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2,
             "hidden_act": "quick_gelu", "hidden_size": 768, "initializer_factor": 1.0, "initializer_range": 0.02,
             "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 77,
             "model_type": "clip_text_model", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
             "projection_dim": 768, "torch_dtype": "float32", "transformers_version": "4.22.0.dev0", "vocab_size": 49408}
            """;

    @Test
    void readsDiffusersConfigAndRoundTrips(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), SD15);
        assertEquals(ClipTextConfig.vitL14(), ClipTextConfig.read(dir));

        ClipTextConfig gelu = new ClipTextConfig(49408, 1024, 4096, 23, 16, 77, ClipTextConfig.Activation.GELU, 1e-5f);
        Path out = dir.resolve("te").resolve("config.json");
        gelu.write(out);
        assertEquals(gelu, ClipTextConfig.read(out));
        JsonNode n = new ObjectMapper().readTree(out.toFile());
        assertEquals("gelu", n.get("hidden_act").asText());
        assertEquals(1e-5, n.get("layer_norm_eps").asDouble(), 0);
        assertEquals("CLIPTextModel", n.get("architectures").get(0).asText());
    }

    @Test
    void missingKeysTakeHuggingFaceDefaultsAndFullClipConfigsUseTextConfig(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"text_config\": {\"hidden_size\": 64, \"num_attention_heads\": 4}}");
        ClipTextConfig c = ClipTextConfig.read(dir.resolve("config.json"));
        assertEquals(64, c.hiddenSize());
        assertEquals(2048, c.intermediateSize());
        assertEquals(49408, c.vocabSize());
        assertEquals(ClipTextConfig.Activation.QUICK_GELU, c.hiddenAct());
    }

    @Test
    void rejectsInvalidConfigs(@TempDir Path dir) throws IOException {
        var heads = assertThrows(IllegalArgumentException.class,
                () -> new ClipTextConfig(49408, 770, 3072, 12, 12, 77, ClipTextConfig.Activation.GELU, 1e-5f));
        assertTrue(heads.getMessage().contains("divisible"), heads.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_act\": \"relu\"}");
        var act = assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.read(dir));
        assertTrue(act.getMessage().contains("quick_gelu"), act.getMessage());
        var missing = assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.read(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("text_encoder/config.json"), missing.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ClipTextConfig(0, 32, 64, 2, 4, 77, ClipTextConfig.Activation.GELU, 1e-5f));
    }
}
