package dev.edgegen.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.edgegen.io.Png;
import dev.edgegen.pipeline.Architecture;
import dev.edgegen.pipeline.ModelWriter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end on a tiny random model: outputs, metadata, and bad input. */
class CliTest {
    @TempDir
    static Path tmp;

    static Path model;

    @BeforeAll
    static void makeModel() {
        model = tmp.resolve("tiny");
        try (NDManager m = NDManager.newBaseManager()) {
            ModelWriter.writeRandom(Architecture.TINY, 1, model, m);
        }
    }

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int code = Main.run(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void generateWritesAPngThatSaysHowItWasMade() throws Exception {
        Path png = tmp.resolve("apple.png");
        Run r = run("generate", "a red apple", "--model", model.toString(), "--steps", "2", "--seed", "42",
                "--sampler", "euler", "-o", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(png) > 0);
        Map<String, String> text = Png.readText(png);
        assertEquals("a red apple", text.get("prompt"));
        assertEquals("42", text.get("seed"));
        assertEquals("euler", text.get("sampler"));
        assertTrue(text.get("parameters").contains("Steps: 2"), text.get("parameters"));
        assertTrue(r.err().contains("text encoder"), r.err());
    }

    @Test
    void saveLatentsThenReuseThemGivesTheSameImage() throws Exception {
        Path lat = tmp.resolve("lat.safetensors");
        Path a = tmp.resolve("a.png");
        Path b = tmp.resolve("b.png");
        assertEquals(0, run("generate", "x", "--model", model.toString(), "--steps", "1", "--seed", "3",
                "--save-latents", lat.toString(), "-o", a.toString()).code());
        assertTrue(Files.size(lat) > 0);
        // Initial latents from a file replace the seeded noise: seed 3's noise via --latents equals --seed 3.
        Path noise = tmp.resolve("noise.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            var t = dev.edgegen.tensor.Randn.randn(m, new ai.djl.ndarray.types.Shape(1, 4, 8, 8), new java.util.Random(3));
            dev.edgegen.io.Safetensors.write(noise, Map.of("latents", t), Map.of());
        }
        assertEquals(0, run("generate", "x", "--model", model.toString(), "--steps", "1", "--seed", "99",
                "--latents", noise.toString(), "-o", b.toString()).code());
        assertTrue(java.util.Arrays.equals(pixels(a), pixels(b)));
    }

    @Test
    void bfloat16PrecisionGivesANearbyButDifferentImage() throws Exception {
        Path a = tmp.resolve("f32.png");
        Path b = tmp.resolve("bf16.png");
        assertEquals(0, run("generate", "x", "--model", model.toString(), "--steps", "2", "--seed", "7", "-o", a.toString()).code());
        Run r = run("generate", "x", "--model", model.toString(), "--steps", "2", "--seed", "7", "--precision", "bfloat16",
                "-o", b.toString());
        assertEquals(0, r.code(), r.err());
        int[] pa = pixels(a), pb = pixels(b);
        double diff = 0;
        for (int i = 0; i < pa.length; i++) {
            for (int s = 0; s < 24; s += 8) diff += Math.abs(((pa[i] >> s) & 255) - ((pb[i] >> s) & 255));
        }
        diff /= pa.length * 3.0;
        assertTrue(diff > 0, "identical images: the bfloat16 path did not run");
        assertTrue(diff < 8, "mean absolute difference " + diff + " of 255 per channel");
        assertEquals("bfloat16", Png.readText(b).get("precision"));
        assertTrue(Png.readText(b).get("parameters").contains("Precision: bfloat16"), Png.readText(b).get("parameters"));
        assertFalse(Png.readText(a).containsKey("precision"), "float32, the default, is not written");
        Run bad = run("generate", "x", "--model", model.toString(), "--precision", "fp8", "-o", tmp.resolve("fp8.png").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--precision must be float32 or bfloat16"), bad.err());
        assertFalse(Files.exists(tmp.resolve("fp8.png")));
    }

    static int[] pixels(Path p) throws Exception {
        var im = javax.imageio.ImageIO.read(p.toFile());
        return im.getRGB(0, 0, im.getWidth(), im.getHeight(), null, 0, im.getWidth());
    }

    @Test
    void badInputGetsOneLineExitCode2AndNoOutput() throws Exception {
        Path out = tmp.resolve("never.png");
        String m = model.toString();
        String[][] cases = {
            {"generate", "x", "--model", tmp.resolve("nope").toString(), "-o", out.toString()},
            {"generate", "x", "--model", m, "-W", "100", "-o", out.toString()},
            {"generate", "x", "--model", m, "--steps", "0", "-o", out.toString()},
            {"generate", "x", "--model", m, "--sampler", "magic", "-o", out.toString()},
            {"generate", "x", "--model", m, "--init-image", tmp.resolve("missing.png").toString(), "-o", out.toString()},
            {"init", "--arch", "sd99", "--random", "-o", tmp.resolve("x").toString()},
        };
        for (String[] c : cases) {
            Run r = run(c);
            assertEquals(2, r.code(), String.join(" ", c) + "\n" + r.err());
            assertTrue(r.err().startsWith("edgegen: "), r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
            assertFalse(Files.exists(out), String.join(" ", c));
        }
    }

    static Path copyOfModel(String name) throws Exception {
        Path copy = tmp.resolve(name);
        try (var s = Files.walk(model)) {
            for (Path p : s.toList()) {
                Path q = copy.resolve(model.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q); else Files.copy(p, q);
            }
        }
        return copy;
    }

    @Test
    void generateSamplesWithTheModelsRecommendationUnlessToldOtherwise() throws Exception {
        Path recommending = copyOfModel("recommending");
        Path index = recommending.resolve("model_index.json");
        Files.writeString(index, Files.readString(index).replaceFirst("\\{",
                "{ \"_edgegen_sampling\": {\"sampler\": \"euler\", \"steps\": 3, \"cfg_scale\": 2.5},"));
        Path png = tmp.resolve("recommended.png");
        Run r = run("generate", "x", "--model", recommending.toString(), "--seed", "1", "-o", png.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, String> text = Png.readText(png);
        assertEquals("euler", text.get("sampler"));
        assertEquals("2.5", text.get("cfg_scale"));
        assertTrue(text.get("parameters").contains("Steps: 3"), text.get("parameters"));

        r = run("generate", "x", "--model", recommending.toString(), "--seed", "1", "--steps", "2", "--sampler", "ddim",
                "--cfg-scale", "1", "-o", png.toString());
        assertEquals(0, r.code(), r.err());
        text = Png.readText(png);
        assertEquals("ddim", text.get("sampler"), "the user's options win");
        assertTrue(text.get("parameters").contains("Steps: 2"), text.get("parameters"));

        r = run("generate", "x", "--model", model.toString(), "--seed", "1", "-o", png.toString());
        assertEquals("dpmpp_2m", Png.readText(png).get("sampler"), "a model without a recommendation gets the generic defaults");

        Files.writeString(index, Files.readString(index).replace("\"steps\": 3", "\"steps\": \"many\""));
        r = run("generate", "x", "--model", recommending.toString(), "-o", tmp.resolve("never.png").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("_edgegen_sampling"), r.err());
        assertFalse(Files.exists(tmp.resolve("never.png")));
    }

    @Test
    void truncatedWeightsAreReportedByFile() throws Exception {
        Path broken = copyOfModel("broken");
        Path w = broken.resolve("unet/diffusion_pytorch_model.safetensors");
        byte[] bytes = Files.readAllBytes(w);
        Files.write(w, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Run r = run("generate", "x", "--model", broken.toString(), "-o", tmp.resolve("t.png").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("diffusion_pytorch_model.safetensors"), r.err());
    }

    @Test
    void tokenizePrintsIdsAsJson() {
        Run r = run("tokenize", "a photo of a cat", "--model", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"input_ids\":[49406,"), r.out());
    }

    @Test
    void inspectCountsSd15ParametersWithoutLoadingWeights() {
        Run r = run("inspect", "--arch", "sd15");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("859,520,964"), r.out());
        assertTrue(r.out().contains("123,060,480"), r.out());
        assertTrue(r.out().contains("49,490,179"), r.out());
    }

    @Test
    void promptEmbedsFromAFileGiveTheSameImageAsThePrompt() throws Exception {
        Path embeds = tmp.resolve("embeds.safetensors");
        Path negEmbeds = tmp.resolve("neg.safetensors");
        try (NDManager m = NDManager.newBaseManager();
             var sd = dev.edgegen.pipeline.ModelLoader.load(model, m)) {
            dev.edgegen.io.Safetensors.write(embeds,
                    Map.of("prompt_embeds", sd.textEncoder.encode(java.util.List.of("a red apple"), m)), Map.of());
            dev.edgegen.io.Safetensors.write(negEmbeds,
                    Map.of("prompt_embeds", sd.textEncoder.encode(java.util.List.of(""), m)), Map.of());
        }
        Path a = tmp.resolve("by-prompt.png");
        Path b = tmp.resolve("by-embeds.png");
        assertEquals(0, run("generate", "a red apple", "--model", model.toString(), "--steps", "2", "--seed", "5",
                "-o", a.toString()).code());
        Run r = run("generate", "ignored", "--model", model.toString(), "--steps", "2", "--seed", "5",
                "--prompt-embeds", embeds.toString(), "--negative-prompt-embeds", negEmbeds.toString(), "-o", b.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(java.util.Arrays.equals(pixels(a), pixels(b)));
    }

    @Test
    void aPromptOverTheTokenLimitIsTruncatedWithAWarning() {
        String longPrompt = "a red apple on a table, ".repeat(20);
        Run r = run("generate", longPrompt, "--model", model.toString(), "--steps", "1",
                "-o", tmp.resolve("long.png").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("truncated"), r.err());
    }

    @Test
    void anUnknownBlockTypeInConfigJsonIsNamed() throws Exception {
        Path odd = tmp.resolve("odd");
        try (var s = Files.walk(model)) {
            for (Path p : s.toList()) {
                Path q = odd.resolve(model.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q); else Files.copy(p, q);
            }
        }
        Path cfg = odd.resolve("unet/config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("CrossAttnDownBlock2D", "FancyDownBlock3D"));
        Run r = run("generate", "x", "--model", odd.toString(), "-o", tmp.resolve("odd.png").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("FancyDownBlock3D"), r.err());
    }
}
