package dev.edgegen.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Dataset;
import dev.edgegen.data.EmojiDataset;
import dev.edgegen.data.Mixture;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.sampling.SchedulerConfig;
import dev.edgegen.tensor.Autocast;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A training run's config file ({@code edgegen train autoencoder|unet --config FILE}), JSON:
 * <pre>
 * {
 *   "stage": "unet",                       // "autoencoder" or "unet"
 *   "output": "runs/unet",                 // run directory: checkpoint, log, loss.png
 *   "seed": 0,
 *   "model": { ... },                      // the network's diffusers config (UNet or VAE config.json fields)
 *   "autoencoder": "runs/autoencoder",     // unet stage: the trained autoencoder to encode images with
 *   "init": "runs/autoencoder-1",          // optional: start from the EMA weights of this run's checkpoint (same model)
 *   "freeze": ["encoder.", "quant_conv."], // optional: parameter-name prefixes kept fixed (e.g. fine-tune only a decoder)
 *   "data": {"emoji_dir": "data/emoji", "emoji_styles": ["google"], "emoji_weight": 1, "synthetic_weight": 1,
 *            "skin_tones": false, "val_fraction": 0.05, "flip": true, "batch_size": 32, "threads": 2,
 *            "start": 0,                   // first sample position: a continuation starts past the earlier stages' samples
 *            "object_counts": [0.4, 0.4, 0.2],   // weights of synthetic scenes with 1, 2, 3 objects
 *            "pool": 0},                   // unet stage, N > 0: encode N samples once and train on them (LatentPool)
 *   "trainer": {"steps": 20000, "lr": 1e-4, "warmup_steps": 500, "min_lr_ratio": 0.1, "beta1": 0.9,
 *               "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "clip_norm": 1, "ema_decay": 0.999,
 *               "checkpoint_every": 500, "log_every": 10,
 *               "precision": "float32",            // "bfloat16": convolutions and linear layers in bfloat16 (Autocast)
 *               "workers": 1},                     // 2: two threads each compute half of every batch (Trainer.Workers)
 *   "diffusion": {"prediction": "epsilon", "cfg_dropout": 0.1, "beta_schedule": "scaled_linear",
 *                 "train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "max_tokens": 24,
 *                 "min_snr_gamma": 0,                   // 0 = plain MSE; 5 = Min-SNR-γ weighting
 *                 "rescale_betas_zero_snr": false,      // true: zero terminal SNR (needs v_prediction)
 *                 "attention_loss": 0,                  // λ > 0: + λ · AttentionLoss (object words attend to their objects)
 *                 "object_weight": 0,                   // k > 0: the MSE on and next to objects counts 1 + k times (ObjectWeights)
 *                 "object_weight_max_t": 1000,          // ... only for samples at timesteps below this (default: all)
 *                 "binding_loss": 0,                    // β > 0: + β · hinge that a wrongly bound caption fits worse (DiffusionTask)
 *                 "binding_margin": 1.0,                // ... by this relative margin of the MSE
 *                 "binding_min_t": 0,                   // ... on samples drawn at or above this timestep
 *                 "binding_max_t": 700,                 // ... and below this one
 *                 "binding_samples": 8,                 // ... at most this many per step (each is one more sample in the UNet call)
 *                 "binding_start_step": 0,              // ... from this step on
 *                 "binding_negatives": ["swap"]},       // ... contrasted with captions that "swap" the colours,
 *                                                       //     "colour_leak" one colour or "shape_leak" one shape to both
 *   "loss": {"kl_weight": 1e-6, "mse_weight": 0.1, "posterior_noise": 1}   // autoencoder stage
 * }
 * </pre>
 * Every key except {@code stage}, {@code output} and {@code trainer.steps} has the default shown.
 * Unknown keys are refused (they are usually typos). Relative paths are resolved against the
 * config file's directory.
 */
public record TrainConfig(String stage, Path output, long seed, JsonNode model, Path autoencoder, Path init, List<String> freeze, Data data,
                          Trainer.Options trainer, Diffusion diffusion, Loss loss, JsonNode raw) {

    /** Whether parameter {@code name} is trained (no {@code freeze} prefix matches it). */
    public boolean trainable(String name) {
        return freeze.stream().noneMatch(name::startsWith);
    }

    public record Data(Path emojiDir, List<String> emojiStyles, double emojiWeight, double syntheticWeight,
                       boolean skinTones, double valFraction, boolean flip, int batchSize, int threads, long start,
                       SyntheticScenes.CountMix objectCounts, int pool) {
        public Data {
            if (pool < 0) throw new IllegalArgumentException("data.pool must be >= 0 (0 = encode every batch), got " + pool);
            if (start < 0) throw new IllegalArgumentException("data.start must be >= 0, got " + start);
            if (batchSize <= 0) throw new IllegalArgumentException("data.batch_size must be > 0, got " + batchSize);
            if (threads <= 0) throw new IllegalArgumentException("data.threads must be > 0, got " + threads);
            if (emojiWeight < 0 || syntheticWeight < 0 || emojiWeight + syntheticWeight <= 0) {
                throw new IllegalArgumentException("data.emoji_weight and data.synthetic_weight must be >= 0 and not both 0");
            }
            if (valFraction < 0 || valFraction >= 1) throw new IllegalArgumentException("data.val_fraction must be in [0, 1)");
        }

        /**
         * The training-split loader: emoji TRAIN split and/or synthetic TRAIN scenes mixed by weight, from sample
         * position {@code first} (a run's own order starts at {@link #start}; measurements on the data start at 0).
         * Unreadable emoji images are skipped; their number is printed to {@code log}.
         */
        public DataLoader loader(long seed, long first, java.io.PrintStream log) throws IOException {
            List<Dataset> sources = new ArrayList<>();
            List<Double> weights = new ArrayList<>();
            if (emojiWeight > 0) {
                EmojiDataset emoji = EmojiDataset.load(emojiDir, emojiStyles, EmojiDataset.Split.TRAIN, valFraction, skinTones)
                        .verifyImages();
                if (emoji.unreadable() > 0) log.println("skipped " + emoji.unreadable() + " unreadable emoji image(s)");
                log.println("emoji: " + emoji.entries().size() + " training images (" + String.join(", ", emojiStyles) + ")");
                sources.add(emoji.source(seed, flip));
                weights.add(emojiWeight);
            }
            if (syntheticWeight > 0) {
                sources.add(SyntheticScenes.source(SyntheticScenes.Split.TRAIN, objectCounts));
                weights.add(syntheticWeight);
            }
            Dataset ds = sources.size() == 1 ? sources.get(0)
                    : new Mixture(sources, weights.stream().mapToDouble(Double::doubleValue).toArray());
            DataLoader loader = new DataLoader(ds, batchSize, threads, seed);
            loader.seek(first);
            return loader;
        }
    }

    /**
     * The binding term of {@link DiffusionTask#withBindingLoss}: weight β (0 = off), relative margin, the timesteps it
     * applies to [minT, maxT), how many samples of a step are also run with a negative caption, the step it starts at
     * and the kinds of negative caption.
     */
    public record Binding(double weight, double margin, int minT, int maxT, int samples, long startStep,
                          List<SyntheticScenes.Rebinding> negatives) {
        public Binding {
            negatives = List.copyOf(negatives);
        }
    }

    /**
     * The noise schedule and objective of a UNet run. With {@code rescaleBetasZeroSnr} the betas are rescaled to zero
     * terminal SNR (Lin et al. 2024): the last timestep is pure noise, so the model learns to place an image from
     * nothing instead of sharpening the trace of it that SD's schedule leaves at t = T−1; that needs v-prediction
     * (ε is undefined there) and trailing timestep spacing in the samplers, which {@link #schedulerConfig()} sets.
     */
    public record Diffusion(DiffusionTask.Prediction prediction, double cfgDropout, String betaSchedule,
                            int trainTimesteps, double betaStart, double betaEnd, int maxTokens, double minSnrGamma,
                            boolean rescaleBetasZeroSnr, double attentionLoss, double objectWeight, int objectWeightMaxT,
                            Binding binding) {
        public Diffusion {
            if (!(objectWeight >= 0)) throw new IllegalArgumentException("diffusion.object_weight must be >= 0 (0 = off)");
            if (objectWeightMaxT < 1 || objectWeightMaxT > trainTimesteps) {
                throw new IllegalArgumentException("diffusion.object_weight_max_t must be in [1, train_timesteps = " + trainTimesteps
                        + "], got " + objectWeightMaxT);
            }
            if (!(attentionLoss >= 0)) throw new IllegalArgumentException("diffusion.attention_loss must be >= 0 (0 = off)");
            if (!(binding.weight() >= 0)) throw new IllegalArgumentException("diffusion.binding_loss must be >= 0 (0 = off)");
            if (!(binding.margin() >= 0)) throw new IllegalArgumentException("diffusion.binding_margin must be >= 0");
            if (binding.maxT() < 1 || binding.maxT() > trainTimesteps) {
                throw new IllegalArgumentException("diffusion.binding_max_t must be in [1, train_timesteps = " + trainTimesteps
                        + "], got " + binding.maxT());
            }
            if (binding.minT() < 0 || binding.minT() >= binding.maxT()) {
                throw new IllegalArgumentException("diffusion.binding_min_t must be in [0, binding_max_t = " + binding.maxT() + "), got " + binding.minT());
            }
            if (binding.samples() < 1) throw new IllegalArgumentException("diffusion.binding_samples must be >= 1, got " + binding.samples());
            if (binding.startStep() < 0) throw new IllegalArgumentException("diffusion.binding_start_step must be >= 0, got " + binding.startStep());
            if (!(minSnrGamma >= 0)) throw new IllegalArgumentException("diffusion.min_snr_gamma must be >= 0 (0 = off)");
            if (cfgDropout < 0 || cfgDropout >= 1) throw new IllegalArgumentException("diffusion.cfg_dropout must be in [0, 1)");
            if (maxTokens < 2 || maxTokens > 512) throw new IllegalArgumentException("diffusion.max_tokens must be in [2, 512]");
            if (!Set.of("scaled_linear", "linear").contains(betaSchedule)) {
                throw new IllegalArgumentException("diffusion.beta_schedule must be \"scaled_linear\" or \"linear\", got \"" + betaSchedule + "\"");
            }
            if (!(betaStart > 0 && betaEnd > betaStart && betaEnd < 1)) {
                throw new IllegalArgumentException("diffusion: need 0 < beta_start < beta_end < 1, got " + betaStart + ", " + betaEnd);
            }
            if (trainTimesteps < 2) throw new IllegalArgumentException("diffusion.train_timesteps must be >= 2, got " + trainTimesteps);
            if (rescaleBetasZeroSnr && prediction != DiffusionTask.Prediction.V_PREDICTION) {
                throw new IllegalArgumentException("diffusion.rescale_betas_zero_snr needs \"prediction\": \"v_prediction\" "
                        + "(at zero terminal SNR the noise is the input itself, so an epsilon model cannot recover the image)");
            }
        }

        /** The "diffusion" section of a config (absent keys take the defaults in the class comment). */
        static Diffusion fromJson(JsonNode df) {
            String pred = text(df, "prediction", "epsilon");
            DiffusionTask.Prediction prediction = switch (pred) {
                case "epsilon" -> DiffusionTask.Prediction.EPSILON;
                case "v_prediction" -> DiffusionTask.Prediction.V_PREDICTION;
                default -> throw new IllegalArgumentException("diffusion.prediction must be \"epsilon\" or \"v_prediction\", got \"" + pred + "\"");
            };
            JsonNode zsnr = df.path("rescale_betas_zero_snr");
            if (!zsnr.isMissingNode() && !zsnr.isBoolean()) {
                throw new IllegalArgumentException("diffusion.rescale_betas_zero_snr must be true or false, got " + zsnr);
            }
            return new Diffusion(prediction, num(df, "cfg_dropout", 0.1), text(df, "beta_schedule", "scaled_linear"),
                    (int) integer(df, "train_timesteps", 1000), num(df, "beta_start", 0.00085), num(df, "beta_end", 0.012),
                    (int) integer(df, "max_tokens", 24), num(df, "min_snr_gamma", 0), zsnr.asBoolean(false),
                    num(df, "attention_loss", 0), num(df, "object_weight", 0),
                    (int) integer(df, "object_weight_max_t", integer(df, "train_timesteps", 1000)),
                    new Binding(num(df, "binding_loss", 0), num(df, "binding_margin", 1.0),
                            (int) integer(df, "binding_min_t", 0), (int) integer(df, "binding_max_t", 700),
                            (int) integer(df, "binding_samples", 8), integer(df, "binding_start_step", 0),
                            negatives(df.path("binding_negatives"))));
        }

        /** The DDIM scheduler config a model trained this way is sampled with (written by {@code edgegen export}). */
        public SchedulerConfig schedulerConfig() {
            return SchedulerConfig.sd15().with(Map.of(
                    "num_train_timesteps", trainTimesteps,
                    "beta_start", betaStart,
                    "beta_end", betaEnd,
                    "beta_schedule", betaSchedule,
                    "prediction_type", prediction == DiffusionTask.Prediction.EPSILON ? "epsilon" : "v_prediction",
                    "rescale_betas_zero_snr", rescaleBetasZeroSnr,
                    "timestep_spacing", rescaleBetasZeroSnr ? "trailing" : "leading"));
        }

        public NoiseSchedule schedule() { return NoiseSchedule.of(schedulerConfig()); }
    }

    /**
     * Autoencoder loss: KL and MSE weights, and {@code posteriorNoise}, the multiplier on the posterior's σ when z is
     * sampled in training (1 = LDM's z = μ + σ·ε; 0 = decode the mean, a plain autoencoder with the KL term as a
     * latent regulariser).
     */
    public record Loss(double klWeight, double mseWeight, double posteriorNoise) {
        public Loss {
            if (klWeight < 0 || mseWeight < 0) throw new IllegalArgumentException("loss weights must be >= 0");
            if (!(posteriorNoise >= 0 && posteriorNoise <= 1)) {
                throw new IllegalArgumentException("loss.posterior_noise must be in [0, 1], got " + posteriorNoise);
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP = Set.of("stage", "output", "seed", "model", "autoencoder", "init", "freeze", "data", "trainer", "diffusion", "loss");
    private static final Set<String> DATA = Set.of("emoji_dir", "emoji_styles", "emoji_weight", "synthetic_weight", "skin_tones",
            "val_fraction", "flip", "batch_size", "threads", "start", "object_counts", "pool");
    private static final Set<String> TRAINER = Set.of("steps", "lr", "warmup_steps", "min_lr_ratio", "beta1", "beta2", "eps",
            "weight_decay", "clip_norm", "ema_decay", "checkpoint_every", "log_every", "precision", "workers");
    private static final Set<String> DIFFUSION = Set.of("prediction", "cfg_dropout", "beta_schedule", "train_timesteps",
            "beta_start", "beta_end", "max_tokens", "min_snr_gamma", "rescale_betas_zero_snr", "attention_loss",
            "object_weight", "object_weight_max_t", "binding_loss", "binding_margin", "binding_min_t", "binding_max_t", "binding_samples",
            "binding_start_step", "binding_negatives");
    private static final Set<String> LOSS = Set.of("kl_weight", "mse_weight", "posterior_noise");

    /** Reads and validates {@code file}; every problem is reported with the file and the key. */
    public static TrainConfig read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("training config not found: " + file);
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " is not valid JSON (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + "): " + e.getOriginalMessage());
        }
        try {
            return parse(root, file.toAbsolutePath().getParent());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static TrainConfig parse(JsonNode root, Path base) {
        if (root == null || !root.isObject()) throw new IllegalArgumentException("the config must be a JSON object");
        known(root, TOP, "");
        String stage = text(root, "stage", null);
        if (!stage.equals("autoencoder") && !stage.equals("unet")) {
            throw new IllegalArgumentException("stage must be \"autoencoder\" or \"unet\", got \"" + stage + "\"");
        }
        Path output = base.resolve(text(root, "output", null));
        long seed = root.path("seed").asLong(0);
        JsonNode model = root.path("model").isObject() ? root.get("model") : JSON.createObjectNode();
        Path ae = root.has("autoencoder") ? base.resolve(text(root, "autoencoder", null)) : null;
        if (stage.equals("unet") && ae == null) {
            throw new IllegalArgumentException("the unet stage needs \"autoencoder\": the run directory or model of the trained autoencoder");
        }

        Path init = root.has("init") ? base.resolve(text(root, "init", null)) : null;
        List<String> freeze = new ArrayList<>();
        if (root.has("freeze")) {
            if (!root.get("freeze").isArray()) throw new IllegalArgumentException("\"freeze\" must be a list of parameter-name prefixes");
            root.get("freeze").forEach(e -> freeze.add(e.asText()));
        }

        JsonNode d = section(root, "data", DATA);
        List<String> styles = new ArrayList<>();
        if (d.has("emoji_styles")) d.get("emoji_styles").forEach(s -> styles.add(s.asText()));
        else styles.add("google");
        Data data = new Data(base.resolve(text(d, "emoji_dir", "data/emoji")), List.copyOf(styles),
                num(d, "emoji_weight", 1), num(d, "synthetic_weight", 1), bool(d, "skin_tones", false),
                num(d, "val_fraction", 0.05), bool(d, "flip", true), (int) integer(d, "batch_size", 32), (int) integer(d, "threads", 2),
                integer(d, "start", 0), objectCounts(d), (int) integer(d, "pool", 0));

        if (data.pool() > 0 && !stage.equals("unet")) throw new IllegalArgumentException("data.pool applies to the unet stage only");

        JsonNode t = section(root, "trainer", TRAINER);
        if (!t.has("steps")) throw new IllegalArgumentException("trainer.steps is required");
        long steps = integer(t, "steps", 0);
        Trainer.Options options = new Trainer.Options(steps, num(t, "lr", 1e-4), integer(t, "warmup_steps", Math.max(1, steps / 20)),
                num(t, "min_lr_ratio", 0.1), num(t, "beta1", 0.9), num(t, "beta2", 0.999), num(t, "eps", 1e-8),
                num(t, "weight_decay", 0.01), num(t, "clip_norm", 1.0), num(t, "ema_decay", 0.999),
                integer(t, "checkpoint_every", Math.max(1, Math.min(500, steps / 10))), integer(t, "log_every", 10), seed,
                precision(t), (int) integer(t, "workers", 1));

        JsonNode df = section(root, "diffusion", DIFFUSION);
        Diffusion diffusion = Diffusion.fromJson(df);

        JsonNode l = section(root, "loss", LOSS);
        Loss loss = new Loss(num(l, "kl_weight", 1e-6), num(l, "mse_weight", 0.1), num(l, "posterior_noise", 1));

        ObjectNode raw = root.deepCopy();
        raw.remove("output"); // moving a run directory must not block its resume
        if (raw.get("trainer") instanceof ObjectNode tr) {
            tr.remove("checkpoint_every"); // intervals may change on resume
            tr.remove("log_every");
        }
        return new TrainConfig(stage, output, seed, model, ae, init, List.copyOf(freeze), data, options, diffusion, loss, raw);
    }

    private static Autocast.Precision precision(JsonNode trainer) {
        JsonNode p = trainer.get("precision");
        if (p == null) return Autocast.Precision.FLOAT32;
        return Autocast.Precision.of(p.asText()).orElseThrow(
                () -> new IllegalArgumentException("trainer.precision must be \"float32\" or \"bfloat16\", got " + p));
    }

    private static JsonNode section(JsonNode root, String name, Set<String> keys) {
        JsonNode n = root.get(name);
        if (n == null) return JSON.createObjectNode();
        if (!n.isObject()) throw new IllegalArgumentException("\"" + name + "\" must be an object");
        known(n, keys, name + ".");
        return n;
    }

    private static void known(JsonNode n, Set<String> keys, String prefix) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) {
                throw new IllegalArgumentException("unknown key \"" + prefix + k + "\" (known: " + String.join(", ", new java.util.TreeSet<>(keys)) + ")");
            }
        }
    }

    private static String text(JsonNode n, String key, String dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (dflt == null) throw new IllegalArgumentException("\"" + key + "\" is required");
            return dflt;
        }
        if (!v.isTextual()) throw new IllegalArgumentException("\"" + key + "\" must be a string, got " + v);
        return v.asText();
    }

    private static double num(JsonNode n, String key, double dflt) {
        JsonNode v = n.get(key);
        if (v == null) return dflt;
        if (!v.isNumber()) throw new IllegalArgumentException("\"" + key + "\" must be a number, got " + v);
        return v.asDouble();
    }

    /** {@code data.object_counts}: three weights, of synthetic scenes with 1, 2 and 3 objects. */
    private static SyntheticScenes.CountMix objectCounts(JsonNode d) {
        JsonNode v = d.get("object_counts");
        if (v == null) return SyntheticScenes.CountMix.DEFAULT;
        if (!v.isArray() || v.size() != 3 || !v.get(0).isNumber() || !v.get(1).isNumber() || !v.get(2).isNumber()) {
            throw new IllegalArgumentException("\"object_counts\" must be three numbers (weights of 1, 2 and 3 objects), got " + v);
        }
        return new SyntheticScenes.CountMix(v.get(0).asDouble(), v.get(1).asDouble(), v.get(2).asDouble());
    }

    /** {@code diffusion.binding_negatives}: names of {@link SyntheticScenes.Rebinding}s, lower case; absent: ["swap"]. */
    private static List<SyntheticScenes.Rebinding> negatives(JsonNode v) {
        if (v.isMissingNode()) return List.of(SyntheticScenes.Rebinding.SWAP);
        List<SyntheticScenes.Rebinding> out = new ArrayList<>();
        String known = "\"swap\", \"colour_leak\" or \"shape_leak\"";
        if (!v.isArray() || v.isEmpty()) throw new IllegalArgumentException("\"binding_negatives\" must be a non-empty list of " + known + ", got " + v);
        for (JsonNode k : v) {
            SyntheticScenes.Rebinding r = k.isTextual() ? SyntheticScenes.Rebinding.of(k.asText()).orElse(null) : null;
            if (r == null || out.contains(r)) {
                throw new IllegalArgumentException("\"binding_negatives\" entries must be distinct, each " + known + "; got " + v);
            }
            out.add(r);
        }
        return out;
    }

    private static long integer(JsonNode n, String key, long dflt) {
        JsonNode v = n.get(key);
        if (v == null) return dflt;
        if (!v.canConvertToLong() || !v.isIntegralNumber()) throw new IllegalArgumentException("\"" + key + "\" must be an integer, got " + v);
        return v.asLong();
    }

    private static boolean bool(JsonNode n, String key, boolean dflt) {
        JsonNode v = n.get(key);
        if (v == null) return dflt;
        if (!v.isBoolean()) throw new IllegalArgumentException("\"" + key + "\" must be true or false, got " + v);
        return v.asBoolean();
    }
}
