package dev.edgegen.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.sampling.Sampler;
import java.nio.file.Path;

/**
 * The sampler, step count and guidance scale `edgegen generate` uses when the user gives none. A model
 * directory may recommend its own in {@code model_index.json} under {@code "_edgegen_sampling"} (a private key,
 * which diffusers ignores); EdgeGen's exported models carry the settings `edgegen eval` measured them at.
 */
public record SamplingDefaults(String sampler, int steps, float cfgScale) {
    static final String KEY = "_edgegen_sampling";

    /** For models that recommend nothing (a user's SD-1.x): 20 DPM-Solver++(2M) steps at guidance 7.5. */
    public static final SamplingDefaults GENERIC = new SamplingDefaults("dpmpp_2m", 20, 7.5f);

    /** `edgegen eval`'s defaults, as the constants its options need: 50 DDIM steps at guidance 5. */
    public static final String EVAL_SAMPLER = "ddim", EVAL_STEPS = "50", EVAL_CFG_SCALE = "5";

    /** What `edgegen eval` measures at by default, and so what `edgegen export` recommends. */
    public static final SamplingDefaults EVALUATED =
            new SamplingDefaults(EVAL_SAMPLER, Integer.parseInt(EVAL_STEPS), Float.parseFloat(EVAL_CFG_SCALE));

    public SamplingDefaults {
        Sampler.byName(sampler);
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (!Float.isFinite(cfgScale)) throw new IllegalArgumentException("cfg_scale must be finite, got " + cfgScale);
    }

    /** The recommendation in a parsed {@code model_index.json}, or {@link #GENERIC} when it has none. */
    static SamplingDefaults fromIndex(JsonNode index, Path file) {
        JsonNode s = index.get(KEY);
        if (s == null) return GENERIC;
        try {
            if (!s.path("sampler").isTextual() || !s.path("steps").canConvertToInt() || !s.path("cfg_scale").isNumber()) {
                throw new IllegalArgumentException("needs \"sampler\" (text), \"steps\" (integer) and \"cfg_scale\" (number)");
            }
            return new SamplingDefaults(s.get("sampler").asText(), s.get("steps").asInt(), (float) s.get("cfg_scale").asDouble());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + KEY + " " + s + ": " + e.getMessage(), e);
        }
    }

    /** Writes this recommendation into a {@code model_index.json} being built. */
    public void writeTo(ObjectNode index) {
        ObjectNode s = index.putObject(KEY);
        s.put("sampler", sampler);
        s.put("steps", steps);
        s.put("cfg_scale", cfgScale);
    }
}
