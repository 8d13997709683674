package dev.edgegen.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole pipeline on a tiny random model: shapes, seeds, guidance, img2img, timings. */
class TextToImageTest {
    @TempDir
    static Path tmp;

    static NDManager root;
    static StableDiffusion sd;

    @BeforeAll
    static void load() {
        root = NDManager.newBaseManager();
        Path dir = tmp.resolve("tiny");
        ModelWriter.writeRandom(Architecture.TINY, 7, dir, root);
        sd = ModelLoader.load(dir, root);
    }

    @AfterAll
    static void close() {
        sd.close();
        root.close();
    }

    static GenerationRequest req(long seed, float cfg, String sampler, int batch) {
        return new GenerationRequest("a red apple", "blurry", 3, cfg, sampler, seed, 64, 64, batch,
                null, 0.75f, null, null, null);
    }

    @Test
    void guidanceRescaleMatchesAPlainReference() {
        try (NDManager m = root.newSubManager()) {
            java.util.Random rng = new java.util.Random(3);
            int b = 2, n = 4 * 3 * 3;
            float[] g = new float[b * n], c = new float[b * n];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (3 * rng.nextGaussian() + 0.5);
                c[i] = (float) rng.nextGaussian();
            }
            ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(b, 4, 3, 3);
            float phi = 0.7f;
            float[] out = TextToImage.rescaleGuidance(m.create(g, shape), m.create(c, shape), phi).toFloatArray();
            for (int s = 0; s < b; s++) {
                double ratio = std(c, s * n, n) / std(g, s * n, n);
                for (int i = s * n; i < (s + 1) * n; i++) {
                    assertEquals(phi * g[i] * ratio + (1 - phi) * g[i], out[i], 1e-4);
                }
            }
            float[] full = TextToImage.rescaleGuidance(m.create(g, shape), m.create(c, shape), 1f).toFloatArray();
            assertEquals(std(c, 0, n), std(full, 0, n), 1e-4, "phi = 1 gives the conditional prediction's spread");
        }
    }

    /** Bessel-corrected standard deviation of x[from, from + n). */
    private static double std(float[] x, int from, int n) {
        double mean = 0, ss = 0;
        for (int i = from; i < from + n; i++) mean += x[i] / (double) n;
        for (int i = from; i < from + n; i++) ss += (x[i] - mean) * (x[i] - mean);
        return Math.sqrt(ss / (n - 1));
    }

    static int[] pixels(BufferedImage im) {
        return im.getRGB(0, 0, im.getWidth(), im.getHeight(), null, 0, im.getWidth());
    }

    @Test
    void sameSeedGivesTheSameImageAndAnotherSeedAnother() {
        TextToImage p = new TextToImage(sd);
        TextToImage.Result a = p.generate(req(1, 5f, "ddim", 1), null);
        TextToImage.Result b = p.generate(req(1, 5f, "ddim", 1), null);
        TextToImage.Result c = p.generate(req(2, 5f, "ddim", 1), null);
        assertEquals(64, a.images().get(0).getWidth());
        assertEquals(64, a.images().get(0).getHeight());
        assertArrayEquals(a.finalLatents(), b.finalLatents());
        assertArrayEquals(pixels(a.images().get(0)), pixels(b.images().get(0)));
        assertFalse(java.util.Arrays.equals(a.finalLatents(), c.finalLatents()));
    }

    @Test
    void everySamplerRunsAndCountsOneUnetCallPerStep() {
        for (String s : new String[] {"ddim", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "lcm"}) {
            TextToImage.Result r = new TextToImage(sd).generate(req(3, 5f, s, 2), null);
            assertEquals(2, r.images().size(), s);
            assertEquals(3, r.timings().unetCalls(), s);
            for (float v : r.finalLatents()) assertTrue(Float.isFinite(v), s);
        }
    }

    @Test
    void guidanceChangesTheResultAndScaleOneSkipsIt() {
        TextToImage p = new TextToImage(sd);
        float[] unguided = p.generate(req(4, 1f, "ddim", 1), null).finalLatents();
        float[] guided = p.generate(req(4, 9f, "ddim", 1), null).finalLatents();
        assertFalse(java.util.Arrays.equals(unguided, guided));
    }

    @Test
    void listenerSeesEveryStepAndImg2imgRunsOnlyTheKeptSteps(@TempDir Path dir) throws Exception {
        int[] seen = {0};
        TextToImage.Result t2i = new TextToImage(sd).generate(req(5, 5f, "euler", 1), (i, n, t) -> seen[0] = i);
        assertEquals(3, seen[0]);
        Path init = dir.resolve("init.png");
        javax.imageio.ImageIO.write(t2i.images().get(0), "png", init.toFile());
        GenerationRequest r = new GenerationRequest("a red apple", "", 10, 5f, "ddim", 5, 64, 64, 1,
                init, 0.3f, null, null, null);
        TextToImage.Result i2i = new TextToImage(sd).generate(r, null);
        assertEquals(3, i2i.timings().unetCalls());
    }

    @Test
    void nativeArraysStayFlatAcrossStepsAndNoneOutliveTheRun() {
        for (String sampler : new String[] {"ddim", "dpmpp_2m", "euler_a"}) {
            int before = sd.manager().getManagedArrays().size();
            java.util.List<Integer> alive = new java.util.ArrayList<>();
            GenerationRequest r = new GenerationRequest("a red apple", "", 8, 5f, sampler, 1, 64, 64, 1,
                    null, 0.75f, null, null, null);
            new TextToImage(sd).generate(r, (i, n, t) -> alive.add(sd.manager().getManagedArrays().size()));
            assertEquals(before, sd.manager().getManagedArrays().size(), sampler + ": arrays left after the run");
            assertTrue(alive.get(2) > before, "the count must see the run scope: " + alive + " vs " + before);
            // From the third step on (DPM keeps one previous estimate) the count must not grow.
            for (int i = 3; i < alive.size(); i++) {
                assertEquals(alive.get(2), alive.get(i), sampler + ": arrays alive per step " + alive);
            }
        }
    }
}
