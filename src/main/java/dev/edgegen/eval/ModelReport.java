package dev.edgegen.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.io.Images;
import dev.edgegen.io.Png;
import dev.edgegen.io.SafetensorsFile;
import dev.edgegen.pipeline.GenerationRequest;
import dev.edgegen.pipeline.ModelLoader;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.pipeline.TextToImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Grids and prompt-following accuracy of a text-to-image model:
 * {@code ModelReport MODEL OUT_PREFIX STEPS CFG N} writes OUT_PREFIX-synthetic.png (8 one-object and
 * 8 two-object held-out prompts), OUT_PREFIX-emoji.png, and, when N > 0, OUT_PREFIX.json / .md with
 * the scene classifier's judgement of N one-object images (the 10 held-out one-object prompts, cycled with
 * new seeds) and N two-object held-out prompts (seed = image index).
 */
public final class ModelReport {
    private ModelReport() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            throw new IllegalArgumentException("usage: ModelReport MODEL_DIR OUT_PREFIX STEPS CFG_SCALE N");
        }
        Path model = Path.of(args[0]);
        String out = args[1];
        int steps = Integer.parseInt(args[2]);
        float cfg = Float.parseFloat(args[3]);
        int n = Integer.parseInt(args[4]);
        Path parent = Path.of(out).toAbsolutePath().getParent();
        Files.createDirectories(parent);
        try (NDManager root = NDManager.newBaseManager(); StableDiffusion sd = ModelLoader.load(model, root)) {
            TextToImage t2i = new TextToImage(sd);
            List<PromptSets.Prompt> synth = new ArrayList<>(PromptSets.synthetic(SyntheticScenes.Split.HELD_OUT, 1, 8));
            synth.addAll(PromptSets.synthetic(SyntheticScenes.Split.HELD_OUT, 2, 8));
            grid(t2i, synth, steps, cfg, Path.of(out + "-synthetic.png"));
            grid(t2i, PromptSets.emojiGrid(), steps, cfg, Path.of(out + "-emoji.png"));
            if (n <= 0) return;
            SceneClassifier classifier = new SceneClassifier();
            try (SafetensorsFile f = SafetensorsFile.open(Path.of(System.getProperty("edgegen.home", "."), "models/eval/scene_classifier.safetensors"))) {
                var report = classifier.load(f.loadAll(root));
                if (!report.ok()) throw new IllegalStateException(report.describe());
            }
            ObjectNode json = new ObjectMapper().createObjectNode();
            json.put("model", model.toString()).put("steps", steps).put("cfg_scale", cfg).put("sampler", "ddim").put("n", n);
            StringBuilder md = new StringBuilder("| held-out prompts | n | colour | shape | colour+shape | position | count | relation |\n"
                    + "|---|---|---|---|---|---|---|---|\n");
            long t0 = System.nanoTime();
            for (int objects = 1; objects <= 2; objects++) {
                // one-object held-out prompts are few (one per held-out colour+shape pair): they repeat with new seeds
                List<PromptSets.Prompt> ps = PromptSets.synthetic(SyntheticScenes.Split.HELD_OUT, objects, objects == 1 ? 10 : n);
                List<PromptFollowing.Judgement> js = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    PromptSets.Prompt p = ps.get(i % ps.size());
                    BufferedImage im = generate(t2i, p.text(), i, steps, cfg);
                    try (NDManager scope = root.newSubManager()) {
                        NDArray x = Images.toArray(im, scope).mul(2f).sub(1f).expandDims(0);        // (1, 3, 64, 64) in [-1, 1]
                        js.addAll(PromptFollowing.score(classifier, x, List.of(p.scene())));
                    }
                }
                PromptFollowing.Summary s = PromptFollowing.Summary.of(js);
                json.set(objects + "_object", new ObjectMapper().valueToTree(s));
                md.append(String.format(Locale.ROOT, "| %d object%s | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %s |%n", objects,
                        objects == 1 ? "" : "s", s.n(), s.colour(), s.shape(), s.colourAndShape(), s.position(), s.count(),
                        Double.isNaN(s.relation()) ? "-" : String.format(Locale.ROOT, "%.2f", s.relation())));
                System.err.println(objects + " object(s): " + s);
            }
            json.put("seconds", (System.nanoTime() - t0) / 1e9);
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(Path.of(out + ".json").toFile(), json);
            Files.writeString(Path.of(out + ".md"), md.toString());
            System.out.print(md);
        }
    }

    private static BufferedImage generate(TextToImage t2i, String prompt, long seed, int steps, float cfg) {
        return t2i.generate(new GenerationRequest(prompt, "", steps, cfg, "ddim", seed, 64, 64, 1,
                null, 0.75f, null, null, null), null).images().get(0);
    }

    private static void grid(TextToImage t2i, List<PromptSets.Prompt> prompts, int steps, float cfg, Path file) throws Exception {
        List<BufferedImage> ims = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            ims.add(generate(t2i, prompts.get(i).text(), i, steps, cfg));
            captions.add(prompts.get(i).text());
        }
        Png.write(file, Images.grid(ims, 4, captions), java.util.Map.of("Description", String.join("; ", captions)));
        System.err.println("wrote " + file);
    }
}
