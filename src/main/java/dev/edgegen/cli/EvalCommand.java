package dev.edgegen.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.eval.BindingGap;
import dev.edgegen.eval.Evaluation;
import dev.edgegen.eval.PromptFollowing;
import dev.edgegen.eval.PromptSets;
import dev.edgegen.eval.TradeoffPlot;
import dev.edgegen.io.Images;
import dev.edgegen.io.Png;
import dev.edgegen.pipeline.ModelLoader;
import dev.edgegen.pipeline.SamplingDefaults;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.pipeline.TextToImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Score a 64x64 text-to-image model on fixed prompt sets: prompt following (scene classifier), "
                + "CLIP score and FID (both in the feature space of EdgeGen's own contrastive model, models/eval; "
                + "not comparable to published Inception FID / OpenAI CLIP scores) with the FID floor of real images.",
            "Writes OUT.json, OUT.md, a 4x4 grid OUT-<set>.png per set, OUT-<set>-vae.png (real | autoencoder round trip); with --sweep-cfg, OUT-sweep.png (FID vs CLIP score)."})
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOption modelOption;

    @Option(names = "--steps", defaultValue = SamplingDefaults.EVAL_STEPS, description = "Sampling steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--cfg-scale", defaultValue = SamplingDefaults.EVAL_CFG_SCALE, description = "Guidance scale (default: ${DEFAULT-VALUE}).")
    float cfgScale;

    @Option(names = "--guidance-rescale", defaultValue = "0",
            description = "Guidance rescale φ in [0, 1], as in generate (default: ${DEFAULT-VALUE}).")
    float guidanceRescale;

    @Option(names = "--sampler", defaultValue = SamplingDefaults.EVAL_SAMPLER, description = "Sampler (default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--prompts", defaultValue = "held-out", split = ",",
            description = "Prompt sets: held-out (= held-out-1,held-out-2), held-out-1, held-out-2, val, emoji (default: ${DEFAULT-VALUE}).")
    List<String> prompts;

    @Option(names = "--prompts-per-set", defaultValue = "25",
            description = "Prompts per set; each gets " + Evaluation.PER_PROMPT + " images (default: ${DEFAULT-VALUE}).")
    int promptsPerSet;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the first prompt's batch; prompt i uses seed + i (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--sweep-cfg", split = ",", paramLabel = "S1,S2,...",
            description = "Evaluate at each of these guidance scales (instead of --cfg-scale) and plot FID against CLIP score.")
    List<Float> sweep;

    @Option(names = "--autoencoder", paramLabel = "RUN",
            description = "Judge only the autoencoder of this training run (EMA weights): its round trip of each synthetic "
                    + "set's 100 reference scenes (PSNR, prompt following, by background), the ceiling it leaves a UNet.")
    Path autoencoder;

    @Option(names = "--binding",
            description = "Instead of sampling images, measure the binding gap (BindingGap): how much worse the UNet "
                    + "denoises two-object scenes of held-out-2 and val when the prompt binds colours and shapes wrongly "
                    + "(--negative); "
                    + "--prompts-per-set scenes per set. Seconds, not minutes.")
    boolean binding;

    @Option(names = "--negative", defaultValue = "swap", paramLabel = "KIND",
            description = "With --binding, the wrong prompt: swap (the colour words exchanged, default), colour_leak (both "
                    + "objects given one object's colour) or shape_leak (one object's shape).")
    String negative;

    @Option(names = {"-o", "--output"}, defaultValue = "eval", paramLabel = "PREFIX",
            description = "Output prefix (default: ${DEFAULT-VALUE} → eval.json, eval.md, eval-<set>.png).")
    String output;

    @Override
    public Integer call() throws Exception {
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1 (got " + steps + ")");
        if (promptsPerSet < 1) throw new IllegalArgumentException("--prompts-per-set must be at least 1 (got " + promptsPerSet + ")");
        if (!(guidanceRescale >= 0 && guidanceRescale <= 1)) throw new IllegalArgumentException("--guidance-rescale must be in [0, 1] (got " + guidanceRescale + ")");
        List<Evaluation.PromptSet> sets = new ArrayList<>();
        for (String p : prompts) {
            if (p.equals("held-out")) {
                sets.add(Evaluation.PromptSet.HELD_OUT_1);
                sets.add(Evaluation.PromptSet.HELD_OUT_2);
            } else {
                sets.add(Evaluation.PromptSet.of(p));
            }
        }
        List<Float> scales = sweep == null || sweep.isEmpty() ? List.of(cfgScale) : sweep;
        for (float s : scales) {
            if (!Float.isFinite(s) || s < 0) throw new IllegalArgumentException("guidance scales must be finite and >= 0, got " + s);
        }
        Path home = ModelOption.home();
        Path prefix = Path.of(output).toAbsolutePath();
        if (prefix.getParent() != null) Files.createDirectories(prefix.getParent());
        ObjectMapper json = new ObjectMapper().setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);
        if (autoencoder != null && binding) {
            throw new IllegalArgumentException("--autoencoder and --binding are exclusive: one judges a run's autoencoder, the other a model's UNet");
        }
        if (autoencoder != null) return autoencoderOnly(sets, home, prefix, json);
        if (binding) return bindingOnly(sets, prefix, json);
        Path model = modelOption.resolve();
        ObjectNode report = json.createObjectNode();
        report.put("model", model.toString()).put("sampler", sampler).put("steps", steps).put("seed", seed)
                .put("guidance_rescale", guidanceRescale)
                .put("images_per_prompt", Evaluation.PER_PROMPT)
                .put("feature_network", "EdgeGen contrastive model (models/eval/contrastive.safetensors), 128-d pooled image "
                        + "features; not comparable to published FID")
                .put("fid_reference", Evaluation.REFERENCE + " real images of the set's split and object count")
                .put("fid_floor", "the same FID for as many real TRAIN-split images as were generated")
                .put("vae_psnr", "PSNR of the model's autoencoder round trip on " + Evaluation.RECONSTRUCTED + " of the reference images")
                .put("vae_following", "prompt following of those round trips (the autoencoder's ceiling), also per background colour");
        ArrayNode results = report.putArray("results");
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT,
                "Model `%s`, %s %d steps%s, %d images per prompt. CLIP score and FID use EdgeGen's contrastive model "
                        + "(not comparable to published numbers); FID floor = real training images vs the same reference.%n%n"
                        + "| set | cfg | images | colour | shape | colour+shape | position | count | relation | CLIP score (real) | FID (floor) | VAE PSNR | VAE colour+shape | s/image |%n"
                        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|%n", model.getFileName(), sampler, steps,
                guidanceRescale > 0 ? ", guidance rescale " + guidanceRescale : "", Evaluation.PER_PROMPT));
        Map<String, List<TradeoffPlot.Point>> curves = new LinkedHashMap<>();
        Map<String, Double> floors = new LinkedHashMap<>();
        StringBuilder pairs = new StringBuilder();
        try (NDManager root = NDManager.newBaseManager(); StableDiffusion sd = ModelLoader.load(model, root);
             Evaluation eval = new Evaluation(home.resolve("models/eval"), home.resolve("data/emoji"), root)) {
            TextToImage t2i = new TextToImage(sd);
            int size = sd.unet.config.sampleSize() * sd.vae.config.downscale();
            for (Evaluation.PromptSet set : sets) {
                List<PromptSets.Prompt> ps = eval.prompts(set, promptsPerSet);
                if (set != Evaluation.PromptSet.EMOJI) {
                    Path file = Path.of(prefix + "-" + set.id + "-vae.png");
                    Png.write(file, Images.grid(eval.roundTrips(sd.vae, set, 16), 8),
                            Map.of("Description", "real scene | autoencoder round trip, 16 reference scenes of " + set.id));
                    System.err.println("edgegen: wrote " + file);
                }
                for (float scale : scales) {
                    List<BufferedImage> images = new ArrayList<>();
                    Evaluation.SetResult r;
                    try (ProgressBar bar = new ProgressBar(System.err, String.format(Locale.ROOT, "%s cfg %.3g", set.id, scale), ps.size())) {
                        r = eval.score(t2i, set, ps, sampler, steps, scale, guidanceRescale, seed, size, images, bar::step);
                    }
                    ObjectNode o = nanToNull(json.valueToTree(r));
                    o.put("cfg_scale", scale);
                    o.put("description", set.description);
                    results.add(o);
                    md.append(row(r, scale));
                    System.out.print(row(r, scale));
                    pairs.append(pairLine(r, scale));
                    curves.computeIfAbsent(set.id, k -> new ArrayList<>()).add(new TradeoffPlot.Point(scale, r.fid(), r.clipScore()));
                    floors.put(set.id, r.fidFloor());
                    if (scales.size() == 1) grid(images, ps, Path.of(prefix + "-" + set.id + ".png"));
                }
            }
        }
        if (!pairs.isEmpty()) {
            String text = String.format(Locale.ROOT, "%nWhich colour+shape pairs were found, on prompts with several objects "
                    + "(in held-out sets the first named pair is the held-out one; swapped: two objects drawn with each "
                    + "other's colours or shapes):%n%n%s", pairs);
            md.append(text);
            System.out.print(text);
        }
        if (scales.size() > 1 && sets.stream().anyMatch(s -> s != Evaluation.PromptSet.EMOJI)) {
            Map<String, List<TradeoffPlot.Point>> synthetic = new LinkedHashMap<>(curves);
            synthetic.remove(Evaluation.PromptSet.EMOJI.id);
            Path plot = Path.of(prefix + "-sweep.png");
            TradeoffPlot.write(plot, String.format(Locale.ROOT, "FID vs CLIP score over guidance scales (%s, %s %d steps)",
                    model.getFileName(), sampler, steps), synthetic, floors);
            System.err.println("edgegen: wrote " + plot);
        }
        writeReport(prefix, json, report, md);
        return 0;
    }

    /** {@code --autoencoder RUN}: the round-trip rows of the synthetic sets, no UNet. */
    private int autoencoderOnly(List<Evaluation.PromptSet> sets, Path home, Path prefix, ObjectMapper json) throws Exception {
        if (modelOption.model != null) throw new IllegalArgumentException("--autoencoder and --model are exclusive: one judges a run's autoencoder, the other a model");
        ObjectNode report = json.createObjectNode();
        report.put("autoencoder", autoencoder.toString())
                .put("images", Evaluation.RECONSTRUCTED + " reference scenes per set, encoded to the posterior mean and decoded")
                .put("vae_following", "the scene classifier on the round trips, judged against each scene's own attributes")
                .put("latent_high_frequency", "share of the diffusion latents' energy (each image and channel centred) above the "
                        + "2x-downsampled band; image_high_frequency: the same for the images");
        ArrayNode results = report.putArray("results");
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "Autoencoder run `%s`: round trip of %d reference scenes per set.%n%n"
                + "| set | PSNR | colour | shape | colour+shape | count | colour+shape by background | high-frequency share: latents (images) |%n"
                + "|---|---|---|---|---|---|---|---|%n",
                autoencoder, Evaluation.RECONSTRUCTED));
        try (NDManager root = NDManager.newBaseManager();
             Evaluation eval = new Evaluation(home.resolve("models/eval"), home.resolve("data/emoji"), root)) {
            dev.edgegen.vae.AutoencoderKL vae = dev.edgegen.train.TrainedModels.readAutoencoderRun(autoencoder, root);
            for (Evaluation.PromptSet set : sets) {
                if (!set.synthetic()) continue;
                Evaluation.Reconstruction r = eval.reconstruction(vae, set);
                ObjectNode o = nanToNull(json.valueToTree(r));
                o.put("set", set.id);
                results.add(o);
                PromptFollowing.Summary f = r.following();
                StringBuilder bg = new StringBuilder();
                r.byBackground().forEach((k, v) -> bg.append(bg.isEmpty() ? "" : ", ").append(k)
                        .append(String.format(Locale.ROOT, " %.2f", v.colourAndShape())));
                String line = String.format(Locale.ROOT, "| %s | %.1f dB | %.2f | %.2f | %.2f | %.2f | %s | %.3f (%.3f) |%n", set.id, r.psnr(),
                        f.colour(), f.shape(), f.colourAndShape(), f.count(), bg, r.latentHighFrequency(), r.imageHighFrequency());
                md.append(line);
                System.out.print(line);
                Path file = Path.of(prefix + "-" + set.id + "-vae.png");
                Png.write(file, Images.grid(eval.roundTrips(vae, set, 16), 8),
                        Map.of("Description", "real scene | autoencoder round trip, 16 reference scenes of " + set.id));
                Png.write(Path.of(prefix + "-" + set.id + "-latents.png"), Images.grid(eval.latentMaps(vae, set, 8), 1 + vae.config.latentChannels()),
                        Map.of("Description", "real scene | its latent's channels (each standardised: grey mean, black/white -/+3 std), 8 reference scenes of " + set.id));
            }
        }
        if (results.isEmpty()) throw new IllegalArgumentException("--autoencoder judges synthetic sets only; use --prompts held-out, held-out-1, held-out-2 or val");
        writeReport(prefix, json, report, md);
        return 0;
    }

    private int bindingOnly(List<Evaluation.PromptSet> sets, Path prefix, ObjectMapper json) throws Exception {
        List<SyntheticScenes.Split> splits = new ArrayList<>();
        for (Evaluation.PromptSet set : sets) {
            if (set == Evaluation.PromptSet.HELD_OUT_2) splits.add(SyntheticScenes.Split.HELD_OUT);
            if (set == Evaluation.PromptSet.VAL) splits.add(SyntheticScenes.Split.VAL);
        }
        if (splits.isEmpty()) throw new IllegalArgumentException("--binding needs two-object scenes: use --prompts held-out-2, val or both");
        SyntheticScenes.Rebinding kind = SyntheticScenes.Rebinding.of(negative).orElseThrow(
                () -> new IllegalArgumentException("--negative must be swap, colour_leak or shape_leak, got " + negative));
        Path model = modelOption.resolve();
        ObjectNode report = json.createObjectNode();
        report.put("model", model.toString()).put("seed", seed)
                .put("negative", kind.name().toLowerCase(Locale.ROOT))
                .put("gap", "mean over scenes of (MSE_wrong - MSE_true) / MSE_true, the UNet's epsilon MSE from the same noisy latent "
                        + "with the scene's prompt and with the wrong prompt of the kind given by negative")
                .put("accuracy", "share of scenes where the true prompt denoises better");
        ArrayNode results = report.putArray("results");
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "Model `%s`: binding gap (accuracy) of two-object scenes, "
                + "the true prompt against a wrong one (%s), by timestep.%n%n| scenes |", model.getFileName(), describe(kind)));
        for (int t : BindingGap.TIMESTEPS) md.append(" t = ").append(t).append(" |");
        md.append("\n|---|").append("---|".repeat(BindingGap.TIMESTEPS.length)).append("\n");
        try (NDManager root = NDManager.newBaseManager(); StableDiffusion sd = ModelLoader.load(model, root)) {
            for (SyntheticScenes.Split split : splits) {
                BindingGap.Result r;
                String name = split == SyntheticScenes.Split.VAL ? "val, 2 objects (seen pairs)" : "held-out-2 (first pair held out)";
                try (ProgressBar bar = new ProgressBar(System.err, "binding " + split.name().toLowerCase(Locale.ROOT), promptsPerSet)) {
                    r = BindingGap.measure(sd, split, kind, promptsPerSet, 8, seed, n -> bar.step(n, ""));
                }
                results.add(json.valueToTree(r));
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %s, %d |", name, r.scenes()));
                for (int q = 0; q < r.timesteps().length; q++) line.append(String.format(Locale.ROOT, " %.3f (%.2f) |", r.gap()[q], r.accuracy()[q]));
                md.append(line).append("\n");
                System.out.println(line);
            }
        }
        writeReport(prefix, json, report, md);
        return 0;
    }

    private static String describe(SyntheticScenes.Rebinding kind) {
        return switch (kind) {
            case SWAP -> "the colours exchanged";
            case COLOUR_LEAK -> "both objects in one object's colour";
            case SHAPE_LEAK -> "both objects in one object's shape";
        };
    }

    /** PREFIX.json (the report) and PREFIX.md (the table). */
    private static void writeReport(Path prefix, ObjectMapper json, ObjectNode report, StringBuilder md) throws java.io.IOException {
        json.writerWithDefaultPrettyPrinter().writeValue(Path.of(prefix + ".json").toFile(), report);
        Files.writeString(Path.of(prefix + ".md"), md.toString());
        System.err.println("edgegen: wrote " + prefix + ".json and " + prefix + ".md");
    }

    /** NaN (an undefined rate, e.g. relations of one-object prompts) as JSON null, not Jackson's string "NaN". */
    static ObjectNode nanToNull(ObjectNode o) {
        o.properties().forEach(e -> {
            if (e.getValue().isDouble() && Double.isNaN(e.getValue().doubleValue())) e.setValue(com.fasterxml.jackson.databind.node.NullNode.getInstance());
            else if (e.getValue() instanceof ObjectNode child) nanToNull(child);
        });
        return o;
    }

    private static String row(Evaluation.SetResult r, float scale) {
        PromptFollowing.Summary f = r.following();
        String follow = f == null ? "- | - | - | - | - | -" : String.format(Locale.ROOT, "%.2f | %.2f | %.2f | %.2f | %.2f | %s",
                f.colour(), f.shape(), f.colourAndShape(), f.position(), f.count(),
                Double.isNaN(f.relation()) ? "-" : String.format(Locale.ROOT, "%.2f", f.relation()));
        String clip = Double.isNaN(r.clipScoreReal()) ? String.format(Locale.ROOT, "%.3f", r.clipScore())
                : String.format(Locale.ROOT, "%.3f (%.3f)", r.clipScore(), r.clipScoreReal());
        String fid = Double.isNaN(r.fid()) ? "-" : String.format(Locale.ROOT, "%.3f (%.3f)", r.fid(), r.fidFloor());
        String psnr = Double.isNaN(r.vaePsnr()) ? "-" : String.format(Locale.ROOT, "%.1f dB", r.vaePsnr());
        String vae = r.vaeFollowing() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.vaeFollowing().colourAndShape());
        return String.format(Locale.ROOT, "| %s | %.3g | %d | %s | %s | %s | %s | %s | %.2f |%n", r.set(), scale, r.images(), follow, clip, fid,
                psnr, vae, r.secondsPerImage());
    }

    /** A list item with the pair breakdown of a several-object set, or "" for other sets. */
    private static String pairLine(Evaluation.SetResult r, float scale) {
        PromptFollowing.Summary f = r.following();
        if (f == null || Double.isNaN(f.firstPair())) return "";
        String swapped = Double.isNaN(f.swapped()) ? "" : String.format(Locale.ROOT, ", swapped %.2f", f.swapped());
        return String.format(Locale.ROOT, "- %s, cfg %.3g: first named pair %.2f, the rest %.2f%s%n", r.set(), scale,
                f.firstPair(), f.otherPairs(), swapped);
    }

    /** The first image of each of the first 16 distinct prompts, captioned. */
    private static void grid(List<BufferedImage> images, List<PromptSets.Prompt> prompts, Path file) {
        List<BufferedImage> ims = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < prompts.size() && ims.size() < 16; i++) {
            String t = prompts.get(i).text();
            // repeated prompts (few one-object held-out pairs) show their next image instead
            int k = (int) seen.stream().filter(t::equals).count();
            seen.add(t);
            int idx = i * Evaluation.PER_PROMPT + Math.min(k, Evaluation.PER_PROMPT - 1);
            ims.add(images.get(idx));
            captions.add(t);
        }
        Png.write(file, Images.grid(ims, 4, captions), Map.of("Description", String.join("; ", captions)));
        System.err.println("edgegen: wrote " + file);
    }
}
