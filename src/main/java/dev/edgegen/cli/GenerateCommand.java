package dev.edgegen.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.io.Png;
import dev.edgegen.io.Safetensors;
import dev.edgegen.pipeline.GenerationRequest;
import dev.edgegen.pipeline.ModelLoader;
import dev.edgegen.pipeline.SamplingDefaults;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.pipeline.TextToImage;
import dev.edgegen.tensor.Autocast;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate images from a prompt (text-to-image, or img2img with --init-image).")
final class GenerateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PROMPT", description = "What to draw.")
    String prompt;

    @Option(names = {"-n", "--negative-prompt"}, description = "What to steer away from (default: empty).")
    String negativePrompt = "";

    @Mixin
    ModelOption model;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--steps", description = "Denoising steps (default: the model's recommendation, else 20; the built-in model's is 50).")
    Integer steps;

    @Option(names = "--cfg-scale", description = "Classifier-free guidance scale; <= 1 disables guidance "
            + "(default: the model's recommendation, else 7.5; the built-in model's is 5).")
    Float cfgScale;

    @Option(names = "--guidance-rescale", description = "Rescale the guided prediction towards the conditional one's "
            + "standard deviation, in [0, 1]; 0.7 against over-exposure at high --cfg-scale on zero-terminal-SNR models (default: ${DEFAULT-VALUE}).")
    float guidanceRescale = 0f;

    @Option(names = "--sampler", description = "ddim, euler, euler_a, dpmpp_2m, dpmpp_2m_karras, lcm "
            + "(default: the model's recommendation, else dpmpp_2m; the built-in model's is ddim).")
    String sampler;

    @Option(names = "--seed", description = "Random seed; the same seed gives the same image (default: random, printed).")
    Long seed;

    @Option(names = {"-W", "--width"}, description = "Width in pixels, a multiple of 8 (default: the model's native size).")
    Integer width;

    @Option(names = {"-H", "--height"}, description = "Height in pixels, a multiple of 8 (default: the model's native size).")
    Integer height;

    @Option(names = "--batch", description = "Images per prompt (default: ${DEFAULT-VALUE}).")
    int batch = 1;

    @Option(names = "--init-image", description = "img2img: start from this image.")
    Path initImage;

    @Option(names = "--strength", description = "img2img: how much of the schedule to re-run, in (0, 1] (default: ${DEFAULT-VALUE}).")
    float strength = 0.75f;

    @Option(names = "--latents", description = "Initial latents (.safetensors, tensor 'latents') instead of seeded noise.")
    Path latents;

    @Option(names = "--prompt-embeds", description = "Text-encoder output (.safetensors, tensor 'prompt_embeds') instead of PROMPT.")
    Path promptEmbeds;

    @Option(names = "--negative-prompt-embeds", description = "Same, for the negative prompt.")
    Path negativePromptEmbeds;

    @Option(names = "--save-latents", description = "Write the final latents (before decoding) to this .safetensors file.")
    Path saveLatents;

    @Option(names = {"-o", "--output"}, description = "Output PNG (default: ${DEFAULT-VALUE}); with --batch N, -0, -1, ... are appended.")
    Path output = Path.of("output.png");

    @Override
    public Integer call() {
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong(0, 1L << 32);
        checkReadable(initImage, "--init-image");
        checkReadable(latents, "--latents");
        checkReadable(promptEmbeds, "--prompt-embeds");
        checkReadable(negativePromptEmbeds, "--negative-prompt-embeds");
        Path modelPath = model.resolve();
        try (NDManager root = NDManager.newBaseManager()) {
            long tl = System.nanoTime();
            StableDiffusion sd = ModelLoader.load(modelPath, root);
            double loadMs = (System.nanoTime() - tl) / 1e6;
            int native_ = sd.unet.config.sampleSize() * sd.vae.config.downscale();
            SamplingDefaults d = sd.sampling;
            GenerationRequest r = new GenerationRequest(prompt, negativePrompt, steps != null ? steps : d.steps(),
                    cfgScale != null ? cfgScale : d.cfgScale(), sampler != null ? sampler : d.sampler(), s,
                    width != null ? width : native_, height != null ? height : native_, batch,
                    initImage, strength, latents, promptEmbeds, negativePromptEmbeds, guidanceRescale);
            if (promptEmbeds == null && sd.textEncoder.tokenize(prompt).truncated()) {
                System.err.println("edgegen: warning: the prompt is longer than the text encoder's "
                        + sd.textEncoder.tokenize(prompt).ids().length + " tokens and was truncated");
            }
            System.err.printf(Locale.ROOT, "edgegen: %s, %dx%d, %d steps, %s, cfg %.1f, seed %d%n",
                    sd.name, r.width(), r.height(), r.steps(), r.sampler(), r.cfgScale(), s);
            TextToImage.Result result;
            try (Autocast.Scope p = precision.apply(); ProgressBar bar = new ProgressBar(System.err, "sampling", r.steps())) {
                result = new TextToImage(sd).generate(r, (i, n, t) -> bar.step(i));
            }
            List<Path> written = new ArrayList<>();
            for (int b = 0; b < result.images().size(); b++) {
                Path p = batch == 1 ? output : numbered(output, b);
                Png.write(p, result.images().get(b), metadata(r, sd.name, s, b, precision.precision));
                written.add(p);
            }
            if (saveLatents != null) {
                try (NDManager m = root.newSubManager()) {
                    NDArray lat = m.create(result.finalLatents(), result.latentShape());
                    Safetensors.write(saveLatents, Map.of("latents", lat), Map.of("seed", Long.toString(s)));
                }
            }
            TextToImage.Timings t = result.timings();
            System.err.printf(Locale.ROOT,
                    "edgegen: load %.0f ms | text encoder %.0f ms | unet %.0f ms (%d calls, %.0f ms each) | decoder %.0f ms | total %.0f ms | peak RSS %d MB%n",
                    loadMs, t.textEncoderMs(), t.unetMs(), t.unetCalls(), t.unetMs() / Math.max(1, t.unetCalls()),
                    t.decoderMs(), t.totalMs(), Rss.peakMb());
            written.forEach(p -> System.out.println(p));
            return 0;
        }
    }

    /** PNG text chunks; {@code precision} is recorded when it is not the default float32 (it changes the image). */
    static Map<String, String> metadata(GenerationRequest r, String modelName, long seed, int index, String precision) {
        Map<String, String> m = new LinkedHashMap<>();
        boolean float32 = precision.equals("float32");
        String params = String.format(Locale.ROOT,
                "%s%nNegative prompt: %s%nSteps: %d, Sampler: %s, CFG scale: %s, Seed: %d, Size: %dx%d, Model: %s%s%s%s",
                r.prompt(), r.negativePrompt(), r.steps(), r.sampler(), r.cfgScale(), seed, r.width(), r.height(),
                modelName, r.guidanceRescale() > 0 ? ", Guidance rescale: " + r.guidanceRescale() : "",
                float32 ? "" : ", Precision: " + precision, r.batch() > 1 ? ", Batch index: " + index : "");
        m.put("parameters", params);
        m.put("prompt", r.prompt());
        m.put("negative_prompt", r.negativePrompt());
        m.put("steps", Integer.toString(r.steps()));
        m.put("sampler", r.sampler());
        m.put("cfg_scale", Float.toString(r.cfgScale()));
        if (r.guidanceRescale() > 0) m.put("guidance_rescale", Float.toString(r.guidanceRescale()));
        m.put("seed", Long.toString(seed));
        m.put("size", r.width() + "x" + r.height());
        m.put("model", modelName);
        if (!float32) m.put("precision", precision);
        m.put("Software", "EdgeGen");
        return m;
    }

    static Path numbered(Path p, int i) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        String named = dot < 0 ? n + "-" + i : n.substring(0, dot) + "-" + i + n.substring(dot);
        return p.resolveSibling(named);
    }

    static void checkReadable(Path p, String option) {
        if (p != null && !Files.isReadable(p)) {
            throw new IllegalArgumentException(option + ": cannot read " + p + " (no such file or not readable)");
        }
    }
}
