package dev.edgegen.sampling;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The noise schedule and sampler options of a diffusers {@code scheduler/scheduler_config.json}.
 * Keys absent from a file take diffusers' defaults; the few whose default depends on the sampler
 * class are {@code null} here and resolved by each sampler (see the {@code ...Or} accessors).
 * Keys of features EdgeGen does not implement (thresholding, exponential/beta/Lu sigmas, ...) are
 * rejected when set, so a config never silently means something else.
 */
public record SchedulerConfig(
        int numTrainTimesteps,          // 1000
        double betaStart,               // 0.0001 (diffusers' DDIM/Euler/DPM default)
        double betaEnd,                 // 0.02
        BetaSchedule betaSchedule,      // linear
        float[] trainedBetas,           // (numTrainTimesteps) or null: betas from the schedule
        PredictionType predictionType,  // epsilon
        TimestepSpacing timestepSpacing, // null: sampler default (DDIM, LCM leading; Euler, DPM linspace)
        int stepsOffset,                // 0
        Boolean setAlphaToOne,          // null: true (DDIM, LCM)
        Boolean clipSample,             // null: DDIM true, LCM false
        double clipSampleRange,         // 1.0
        boolean rescaleBetasZeroSnr,    // false
        boolean useKarrasSigmas,        // false (Euler, DPM)
        Double sigmaMin,                // null: smallest schedule sigma (Euler + Karras)
        Double sigmaMax,                // null: largest schedule sigma (Euler + Karras)
        int solverOrder,                // 2 (DPM; 1 or 2)
        SolverType solverType,          // midpoint (DPM)
        Boolean lowerOrderFinal,        // null: true (DPM)
        boolean eulerAtFinal,           // false (DPM)
        FinalSigmas finalSigmasType,    // zero (Euler, DPM)
        double lambdaMinClipped,        // -inf (DPM)
        int originalInferenceSteps,     // 50 (LCM)
        double timestepScaling) {       // 10.0 (LCM)

    public SchedulerConfig {
        require(numTrainTimesteps > 1, "num_train_timesteps must be > 1, got " + numTrainTimesteps);
        require(betaStart > 0 && betaEnd > 0 && Double.isFinite(betaStart) && Double.isFinite(betaEnd),
                "beta_start and beta_end must be positive, got " + betaStart + ", " + betaEnd);
        require(betaSchedule != null && predictionType != null && solverType != null && finalSigmasType != null,
                "beta_schedule, prediction_type, solver_type and final_sigmas_type must be set");
        require(trainedBetas == null || trainedBetas.length == numTrainTimesteps,
                "trained_betas has " + (trainedBetas == null ? 0 : trainedBetas.length)
                        + " values but num_train_timesteps is " + numTrainTimesteps);
        require(stepsOffset >= 0 && stepsOffset < numTrainTimesteps, "steps_offset must be in [0, "
                + numTrainTimesteps + "), got " + stepsOffset);
        require(clipSampleRange > 0, "clip_sample_range must be positive, got " + clipSampleRange);
        require(sigmaMin == null || sigmaMin > 0, "sigma_min must be positive, got " + sigmaMin);
        require(sigmaMax == null || sigmaMax > 0, "sigma_max must be positive, got " + sigmaMax);
        require(solverOrder == 1 || solverOrder == 2,
                "solver_order " + solverOrder + " is not supported: use 1 or 2 (DPM-Solver++ 2M)");
        require(!Double.isNaN(lambdaMinClipped), "lambda_min_clipped must be a number");
        require(originalInferenceSteps >= 1 && originalInferenceSteps <= numTrainTimesteps,
                "original_inference_steps must be in [1, " + numTrainTimesteps + "], got " + originalInferenceSteps);
        require(timestepScaling > 0, "timestep_scaling must be positive, got " + timestepScaling);
        trainedBetas = trainedBetas == null ? null : trainedBetas.clone();
    }

    /** Stable Diffusion 1.5's schedule (scaled_linear 0.00085..0.012, leading spacing, steps_offset 1). */
    public static SchedulerConfig sd15() {
        return new SchedulerConfig(1000, 0.00085, 0.012, BetaSchedule.SCALED_LINEAR, null, PredictionType.EPSILON,
                TimestepSpacing.LEADING, 1, false, false, 1.0, false, false, null, null, 2, SolverType.MIDPOINT,
                null, false, FinalSigmas.ZERO, Double.NEGATIVE_INFINITY, 50, 10.0);
    }

    /** ᾱ_t for t = 0 … numTrainTimesteps−1 in float32, as every sampler computes them (zero-terminal-SNR rescale included). */
    public float[] alphasCumprod() {
        return NoiseSchedules.alphasCumprod(NoiseSchedules.betas(this));
    }

    @Override
    public float[] trainedBetas() {
        return trainedBetas == null ? null : trainedBetas.clone();
    }

    public TimestepSpacing timestepSpacingOr(TimestepSpacing samplerDefault) {
        return timestepSpacing != null ? timestepSpacing : samplerDefault;
    }

    public boolean setAlphaToOneOr(boolean samplerDefault) {
        return setAlphaToOne != null ? setAlphaToOne : samplerDefault;
    }

    public boolean clipSampleOr(boolean samplerDefault) {
        return clipSample != null ? clipSample : samplerDefault;
    }

    public boolean lowerOrderFinalOr(boolean samplerDefault) {
        return lowerOrderFinal != null ? lowerOrderFinal : samplerDefault;
    }

    /** A copy with diffusers keys overridden, e.g. {@code with(Map.of("use_karras_sigmas", true))}. */
    public SchedulerConfig with(Map<String, ?> overrides) {
        ObjectNode node = toNode(null);
        overrides.forEach((k, v) -> node.set(k, JSON.valueToTree(v)));
        return fromNode(node);
    }

    // ---- JSON ----

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    public static SchedulerConfig read(Path file) {
        try {
            return fromNode(JSON.readTree(file.toFile()));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Scheduler config " + file + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read scheduler config " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Scheduler config " + file + ": " + e.getMessage(), e);
        }
    }

    public static SchedulerConfig fromJson(String json) {
        try {
            return fromNode(JSON.readTree(json));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Scheduler config is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** diffusers' JSON form; {@code className} (e.g. "DDIMScheduler") becomes {@code _class_name} if not null. */
    public String toJson(String className) {
        try {
            return JSON.writeValueAsString(toNode(className)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path file, String className) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, toJson(className));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write scheduler config " + file, e);
        }
    }

    private ObjectNode toNode(String className) {
        ObjectNode n = JSON.createObjectNode();
        if (className != null) {
            n.put("_class_name", className);
        }
        n.put("num_train_timesteps", numTrainTimesteps);
        n.put("beta_start", betaStart);
        n.put("beta_end", betaEnd);
        n.put("beta_schedule", betaSchedule.json());
        if (trainedBetas != null) {
            n.set("trained_betas", JSON.valueToTree(trainedBetas));
        }
        n.put("prediction_type", predictionType.json());
        if (timestepSpacing != null) {
            n.put("timestep_spacing", timestepSpacing.json());
        }
        n.put("steps_offset", stepsOffset);
        if (setAlphaToOne != null) {
            n.put("set_alpha_to_one", setAlphaToOne);
        }
        if (clipSample != null) {
            n.put("clip_sample", clipSample);
        }
        n.put("clip_sample_range", clipSampleRange);
        n.put("rescale_betas_zero_snr", rescaleBetasZeroSnr);
        n.put("use_karras_sigmas", useKarrasSigmas);
        if (sigmaMin != null) {
            n.put("sigma_min", sigmaMin);
        }
        if (sigmaMax != null) {
            n.put("sigma_max", sigmaMax);
        }
        n.put("solver_order", solverOrder);
        n.put("solver_type", solverType.json());
        if (lowerOrderFinal != null) {
            n.put("lower_order_final", lowerOrderFinal);
        }
        n.put("euler_at_final", eulerAtFinal);
        n.put("final_sigmas_type", finalSigmasType.json());
        if (Double.isFinite(lambdaMinClipped)) { // -inf, the default, is not portable JSON
            n.put("lambda_min_clipped", lambdaMinClipped);
        }
        n.put("original_inference_steps", originalInferenceSteps);
        n.put("timestep_scaling", timestepScaling);
        return n;
    }

    private static SchedulerConfig fromNode(JsonNode n) {
        require(n != null && n.isObject(), "a scheduler config must be a JSON object");
        rejectUnsupported(n);
        return new SchedulerConfig(
                intOf(n, "num_train_timesteps", 1000),
                doubleOf(n, "beta_start", 0.0001),
                doubleOf(n, "beta_end", 0.02),
                BetaSchedule.parse(stringOf(n, "beta_schedule", "linear")),
                floatsOf(n, "trained_betas"),
                PredictionType.parse(stringOf(n, "prediction_type", "epsilon")),
                has(n, "timestep_spacing") ? TimestepSpacing.parse(stringOf(n, "timestep_spacing", null)) : null,
                intOf(n, "steps_offset", 0),
                has(n, "set_alpha_to_one") ? boolOf(n, "set_alpha_to_one", true) : null,
                has(n, "clip_sample") ? boolOf(n, "clip_sample", true) : null,
                doubleOf(n, "clip_sample_range", 1.0),
                boolOf(n, "rescale_betas_zero_snr", false),
                boolOf(n, "use_karras_sigmas", false),
                has(n, "sigma_min") ? doubleOf(n, "sigma_min", 0) : null,
                has(n, "sigma_max") ? doubleOf(n, "sigma_max", 0) : null,
                intOf(n, "solver_order", 2),
                SolverType.parse(stringOf(n, "solver_type", "midpoint")),
                has(n, "lower_order_final") ? boolOf(n, "lower_order_final", true) : null,
                boolOf(n, "euler_at_final", false),
                FinalSigmas.parse(stringOf(n, "final_sigmas_type", "zero")),
                doubleOf(n, "lambda_min_clipped", Double.NEGATIVE_INFINITY),
                intOf(n, "original_inference_steps", 50),
                doubleOf(n, "timestep_scaling", 10.0));
    }

    /** Keys whose non-default values select diffusers features that EdgeGen does not implement. */
    private static void rejectUnsupported(JsonNode n) {
        for (String flag : new String[] {"thresholding", "use_exponential_sigmas", "use_beta_sigmas",
                "use_lu_lambdas", "use_flow_sigmas", "use_dynamic_shifting"}) {
            if (has(n, flag) && boolOf(n, flag, false)) {
                throw new IllegalArgumentException(flag + "=true is not supported; set it to false");
            }
        }
        Map<String, Set<String>> allowed = Map.of(
                "algorithm_type", Set.of("dpmsolver++"),
                "timestep_type", Set.of("discrete"),
                "interpolation_type", Set.of("linear"));
        allowed.forEach((key, values) -> {
            if (has(n, key) && !values.contains(stringOf(n, key, null))) {
                throw new IllegalArgumentException(key + " '" + stringOf(n, key, null)
                        + "' is not supported; supported: " + values);
            }
        });
        if (has(n, "variance_type")) {
            throw new IllegalArgumentException("variance_type '" + stringOf(n, "variance_type", null)
                    + "' (learned variance) is not supported; remove it or set it to null");
        }
    }

    private static boolean has(JsonNode n, String key) {
        return n.has(key) && !n.get(key).isNull();
    }

    private static int intOf(JsonNode n, String key, int def) {
        if (!has(n, key)) {
            return def;
        }
        JsonNode v = n.get(key);
        require(v.isIntegralNumber() && v.canConvertToInt(), key + " must be an integer, got " + v);
        return v.intValue();
    }

    private static double doubleOf(JsonNode n, String key, double def) {
        if (!has(n, key)) {
            return def;
        }
        JsonNode v = n.get(key);
        require(v.isNumber(), key + " must be a number, got " + v);
        return v.doubleValue();
    }

    private static boolean boolOf(JsonNode n, String key, boolean def) {
        if (!has(n, key)) {
            return def;
        }
        JsonNode v = n.get(key);
        require(v.isBoolean(), key + " must be true or false, got " + v);
        return v.booleanValue();
    }

    private static String stringOf(JsonNode n, String key, String def) {
        if (!has(n, key)) {
            return def;
        }
        JsonNode v = n.get(key);
        require(v.isTextual(), key + " must be a string, got " + v);
        return v.textValue();
    }

    private static float[] floatsOf(JsonNode n, String key) {
        if (!has(n, key)) {
            return null;
        }
        JsonNode v = n.get(key);
        require(v.isArray(), key + " must be an array of numbers, got " + v.getNodeType());
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            require(v.get(i).isNumber(), key + "[" + i + "] must be a number, got " + v.get(i));
            out[i] = v.get(i).floatValue();
        }
        return out;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SchedulerConfig c && toJson(null).equals(c.toJson(null));
    }

    @Override
    public int hashCode() {
        return toJson(null).hashCode();
    }

    @Override
    public String toString() {
        return "SchedulerConfig" + toNode(null).toString();
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String key, String value) {
        for (E e : type.getEnumConstants()) {
            if (((Named) e).json().equals(value)) {
                return e;
            }
        }
        throw new IllegalArgumentException(key + " '" + value + "' is not supported; valid: "
                + Arrays.stream(type.getEnumConstants()).map(e -> ((Named) e).json()).toList());
    }

    private interface Named {
        String json();
    }

    public enum BetaSchedule implements Named {
        LINEAR, SCALED_LINEAR, SQUAREDCOS_CAP_V2;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static BetaSchedule parse(String s) {
            return parseEnum(BetaSchedule.class, "beta_schedule", s);
        }
    }

    public enum PredictionType implements Named {
        EPSILON, V_PREDICTION, SAMPLE;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static PredictionType parse(String s) {
            return parseEnum(PredictionType.class, "prediction_type", s);
        }
    }

    public enum TimestepSpacing implements Named {
        LEADING, TRAILING, LINSPACE;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static TimestepSpacing parse(String s) {
            return parseEnum(TimestepSpacing.class, "timestep_spacing", s);
        }
    }

    public enum SolverType implements Named {
        MIDPOINT, HEUN;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static SolverType parse(String s) {
            return parseEnum(SolverType.class, "solver_type", s);
        }
    }

    /** The sigma after the last step: zero (fully denoised) or the schedule's smallest sigma. */
    public enum FinalSigmas implements Named {
        ZERO, SIGMA_MIN;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static FinalSigmas parse(String s) {
            return parseEnum(FinalSigmas.class, "final_sigmas_type", s);
        }
    }
}
