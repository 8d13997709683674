package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.tensor.Autocast;
import dev.edgegen.tensor.Ops;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TasksTest {
    private static final List<SyntheticScenes.Rebinding> SWAP = List.of(SyntheticScenes.Rebinding.SWAP);

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void minSnrWeightsCapTheCleanTimesteps() {
        NoiseSchedule s = NoiseSchedule.sd();
        DiffusionTask eps = new DiffusionTask(null, null, null, null, s, DiffusionTask.Prediction.EPSILON, 0.1, 5);
        DiffusionTask v = new DiffusionTask(null, null, null, null, s, DiffusionTask.Prediction.V_PREDICTION, 0.1, 5);
        int[] t = {0, 999};
        double snr0 = s.alphasCumprod()[0] / (1 - s.alphasCumprod()[0]);           // ≈ 1176: capped at γ = 5
        double snrT = s.alphasCumprod()[999] / (1 - s.alphasCumprod()[999]);       // ≈ 0.0047: below γ, weight 1
        float[] we = eps.minSnrWeights(t);
        assertEquals(5 / snr0, we[0], 1e-6);
        assertEquals(1.0, we[1], 1e-6);
        float[] wv = v.minSnrWeights(t);
        assertEquals(5 / (snr0 + 1), wv[0], 1e-6);
        assertEquals(snrT / (snrT + 1), wv[1], 1e-6);
        assertThrows(IllegalArgumentException.class,
                () -> new DiffusionTask(null, null, null, null, s, DiffusionTask.Prediction.EPSILON, 0.1, -1));
    }

    @Test
    void minSnrWeightedLossIsTheWeightedPerSampleMse() throws IOException {
        float lp = firstLoss(0);
        float lw = firstLoss(5);
        // same batch, timesteps and noise; epsilon weights min(SNR, 5) / SNR are ≤ 1
        assertTrue(Float.isFinite(lw) && lw > 0 && lw <= lp + 1e-6f, lw + " vs " + lp);
    }

    /** The epsilon loss of a fixed tiny denoiser on the first synthetic batch, same timesteps and noise every call. */
    private static float firstLoss(double minSnrGamma) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 1, 11)) {
            TinyDenoiser net = new TinyDenoiser();
            net.initialize(m, 0.2f, 3);
            CaptionCache cache = new CaptionCache(TasksTest::fakeText, 100);
            return new DiffusionTask(net::forward, TasksTest::pool, cache::encode, loader, NoiseSchedule.sd(),
                    DiffusionTask.Prediction.EPSILON, 0.1, minSnrGamma).loss(m, 0, new java.util.Random(4)).getFloat();
        }
    }

    @Test
    void theBindingTermIsTheMarginWhenTheDenoiserIgnoresTheCaption() throws IOException {
        double margin = 0.3, weight = 0.5;
        float plain = bindingLoss(new TrainConfig.Binding(0, margin, 0, 1000, 4, 0, SWAP), null);
        Map<String, Double> sums = new java.util.HashMap<>();
        float withTerm = bindingLoss(new TrainConfig.Binding(weight, margin, 0, 1000, 4, 0, SWAP), sums);
        // the swapped caption changes nothing, so MSE_swapped = MSE_true and relu((1 + m) MSE − MSE) / MSE = m
        assertEquals(margin, sums.get("binding_loss"), 1e-5);
        assertEquals(plain + weight * margin, withTerm, 1e-5);
        // no sample was drawn below timestep 1 (or, if one was, the term would show in the sum)
        Map<String, Double> none = new java.util.HashMap<>();
        assertEquals(plain, bindingLoss(new TrainConfig.Binding(weight, margin, 0, 1, 4, 0, SWAP), none), 1e-7);
        assertEquals(0.0, none.get("binding_loss"));
        none.clear();
        assertEquals(plain, bindingLoss(new TrainConfig.Binding(weight, margin, 0, 1000, 4, 1, SWAP), none), 1e-7, "step 0 is before the start");
        assertEquals(0.0, none.get("binding_loss"));
        assertThrows(IllegalArgumentException.class, () -> bindingLoss(new TrainConfig.Binding(weight, -1, 0, 1000, 4, 0, SWAP), null));
    }

    @Test
    void aNegativeCaptionIsFixedPerCaptionUsesEveryKindAndNeverNamesAHeldOutPair() {
        List<SyntheticScenes.Rebinding> all = List.of(SyntheticScenes.Rebinding.values());
        java.util.Set<String> kinds = new java.util.HashSet<>();
        int skipped = 0;
        for (long i = 0; i < 400; i++) {
            var scene = SyntheticScenes.scene(SyntheticScenes.Split.TRAIN, i, 2);
            String caption = SyntheticScenes.caption(scene, new Random(i));
            var negative = DiffusionTask.negativeCaption(caption, scene, all);
            assertEquals(negative, DiffusionTask.negativeCaption(caption, scene, all), "the same caption meets the same negative");
            var swap = SyntheticScenes.swapColours(caption, scene);
            if (swap.isPresent() && negative.isEmpty()) skipped++;
            if (negative.isEmpty()) continue;
            for (var kind : all) {
                for (boolean first : new boolean[] {true, false}) {
                    if (SyntheticScenes.rebind(caption, scene, kind, first).equals(negative)) kinds.add(kind + "/" + first);
                }
            }
            for (Scene.Colour c : Scene.Colour.values()) {
                for (Scene.ShapeKind k : Scene.ShapeKind.values()) {
                    if (SyntheticScenes.isHeldOut(c, k)) {
                        assertFalse(negative.get().contains(c.word() + " " + k.word()), caption + " -> " + negative.get());
                    }
                }
            }
        }
        assertEquals(6, kinds.size(), "each kind in both directions: " + kinds);   // a swap matches both directions
        assertTrue(skipped > 0, "some negatives would name a held-out pair and are skipped");
        var scene = SyntheticScenes.scene(SyntheticScenes.Split.TRAIN, 3, 2);
        String caption = SyntheticScenes.caption(scene, new Random(3));
        assertTrue(DiffusionTask.negativeCaption(caption, scene, List.of()).isEmpty());
    }

    /** The loss of a caption-blind tiny denoiser on the first batch of four two-object scenes, with the binding term given. */
    private static float bindingLoss(TrainConfig.Binding binding, Map<String, Double> sums) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN,
                     new SyntheticScenes.CountMix(0, 1, 0)), 4, 1, 11)) {
            TinyDenoiser net = new TinyDenoiser();
            net.initialize(m, 0.2f, 3);
            CaptionCache cache = new CaptionCache(TasksTest::fakeText, 100);
            DiffusionTask task = new DiffusionTask((x, t, c) -> Ops.silu(net.conv.forward(x)), TasksTest::pool, cache::encode, loader,
                    NoiseSchedule.sd(), DiffusionTask.Prediction.EPSILON, 0.0, 5).withBindingLoss(binding);
            float loss = task.loss(m, 0, new Random(4)).getFloat();
            if (sums != null) sums.putAll(task.takeTermSums());
            return loss;
        }
    }

    @Test
    void warmingTheCaptionCacheEncodesEachNewCaptionOnceInBatchesAndChangesNoValue() {
        List<List<String>> calls = new ArrayList<>();
        CaptionCache cache = new CaptionCache((c, mm) -> { calls.add(List.copyOf(c)); return fakeText(c, mm); }, 100);
        List<String> captions = List.of("a", "b", "a", "c", "d", "e", "b", "f", "g");
        try (NDManager m = NDManager.newBaseManager()) {
            float[] cold = new CaptionCache(TasksTest::fakeText, 100).encode(captions, m).toFloatArray();
            cache.encode(List.of("c"), m);
            calls.clear();
            cache.warm(captions, 3, m, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            assertEquals(List.of(List.of("a", "b", "d"), List.of("e", "f", "g")), calls, "distinct, uncached, 3 at a time");
            calls.clear();
            assertArrayEquals(cold, cache.encode(captions, m).toFloatArray());
            assertTrue(calls.isEmpty(), "every caption was cached: " + calls);
        }
    }

    @Test
    void noiseScheduleMatchesStableDiffusion() {
        NoiseSchedule s = NoiseSchedule.sd();
        assertEquals(1000, s.steps());
        assertEquals(0.99915, s.alphasCumprod()[0], 1e-6);
        double last = s.alphasCumprod()[999];
        assertEquals(14.6146, Math.sqrt((1 - last) / last), 1e-3, "sigma_max of Stable Diffusion's Karras/Euler samplers");
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x0 = m.ones(new Shape(2, 1, 1, 1));
            NDArray eps = m.full(new Shape(2, 1, 1, 1), 2f);
            int[] t = {0, 999};
            float[] xt = s.addNoise(x0, eps, t).toFloatArray();
            float[] v = s.velocity(x0, eps, t).toFloatArray();
            for (int i = 0; i < 2; i++) {
                double ab = s.alphasCumprod()[t[i]];
                assertEquals(Math.sqrt(ab) + 2 * Math.sqrt(1 - ab), xt[i], 1e-6);
                assertEquals(2 * Math.sqrt(ab) - Math.sqrt(1 - ab), v[i], 1e-6);
            }
        }
    }

    /** A tiny conditional denoiser: conv(latents) + linear(mean context) broadcast + t scale. */
    static final class TinyDenoiser extends Module {
        final Conv2d conv = register("conv", new Conv2d(3, 3, 3, 1, 1));
        final Linear ctx = register("ctx", new Linear(8, 3, true));

        NDArray forward(NDArray x, NDArray t, NDArray context) {
            NDArray c = ctx.forward(context.mean(new int[] {1})).reshape(-1, 3, 1, 1); // (B, 3, 1, 1)
            return Ops.silu(conv.forward(x)).add(c).add(t.div(1000f).reshape(-1, 1, 1, 1));
        }
    }

    /** Context: per-caption deterministic (2, 8) vectors from the caption's hash; latents: 4x average pool. */
    static NDArray fakeText(List<String> captions, NDManager m) {
        float[] v = new float[captions.size() * 16];
        for (int i = 0; i < captions.size(); i++) {
            java.util.Random r = new java.util.Random(captions.get(i).hashCode());
            for (int j = 0; j < 16; j++) v[i * 16 + j] = (float) r.nextGaussian();
        }
        return m.create(v, new Shape(captions.size(), 2, 8));
    }

    static NDArray pool(NDArray images, java.util.Random rng) {
        return images.reshape(-1, 3, 16, 4, 16, 4).mean(new int[] {5}).mean(new int[] {3});
    }

    static Trainer.Options options(long steps, int workers) {
        return new Trainer.Options(steps, 1e-2, 2, 0.1, 0.9, 0.999, 1e-8, 0.0, 1.0, 0.9, 3, 1, 5, Autocast.Precision.FLOAT32, workers);
    }

    Map<String, float[]> runDiffusion(Path dir, long stopAfter, boolean resume, int threads, List<Double> losses) throws IOException {
        return runDiffusion(dir, stopAfter, resume, threads, 1, losses);
    }

    Map<String, float[]> runDiffusion(Path dir, long stopAfter, boolean resume, int threads, int workers, List<Double> losses) throws IOException {
        return runDiffusion(dir, stopAfter, resume, threads, workers, 0, losses);
    }

    /** {@code poolSize} > 0: the examples come from a {@link LatentPool} of that many samples. */
    Map<String, float[]> runDiffusion(Path dir, long stopAfter, boolean resume, int threads, int workers, int poolSize,
                                      List<Double> losses) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, threads, 11)) {
            TinyDenoiser net = new TinyDenoiser();
            net.initialize(m, 0.2f, 3);
            CaptionCache cache = new CaptionCache(TasksTest::fakeText, 100);
            LatentPool pool = poolSize == 0 ? null
                    : LatentPool.encode(loader, poolSize, TasksTest::pool, m, 11, 4, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            DiffusionTask task = new DiffusionTask(net::forward, TasksTest::pool, cache::encode, loader, pool,
                    NoiseSchedule.sd(), DiffusionTask.Prediction.V_PREDICTION, 0.1, 0);
            ObjectNode cfg = JSON.createObjectNode().put("stage", "unet");
            Trainer trainer = new Trainer(net, options(8, workers), cfg, dir, m);
            try {
                trainer.run(task, resume, info -> {
                    if (losses != null) losses.add(info.loss());
                    if (info.step() == stopAfter) throw new IllegalStateException("killed");
                }, false);
            } catch (IllegalStateException e) {
                assertEquals("killed", e.getMessage());
            }
            Map<String, float[]> w = new java.util.LinkedHashMap<>();
            net.parameters().forEach((k, p) -> w.put(k, p.get().toFloatArray()));
            return w;
        }
    }

    @Test
    void diffusionTrainingResumesExactlyWithTheThreadedLoader(@TempDir Path dir) throws IOException {
        List<Double> straightLosses = new ArrayList<>();
        Map<String, float[]> straight = runDiffusion(dir.resolve("a"), -1, false, 1, straightLosses);
        runDiffusion(dir.resolve("b"), 5, false, 2, null);   // checkpoint at 3, killed after 5
        List<Double> resumedLosses = new ArrayList<>();
        Map<String, float[]> resumed = runDiffusion(dir.resolve("b"), -1, true, 2, resumedLosses);
        for (String k : straight.keySet()) assertArrayEquals(straight.get(k), resumed.get(k), 0f, k);
        assertEquals(straightLosses.subList(3, 8), resumedLosses);
        assertTrue(Files.exists(dir.resolve("b/loss.png")));
    }

    @Test
    void diffusionTrainingWithTwoWorkersResumesExactly(@TempDir Path dir) throws IOException {
        List<Double> oneWorker = new ArrayList<>();
        runDiffusion(dir.resolve("w1"), -1, false, 1, 1, oneWorker);
        List<Double> straightLosses = new ArrayList<>();
        Map<String, float[]> straight = runDiffusion(dir.resolve("a"), -1, false, 1, 2, straightLosses);
        runDiffusion(dir.resolve("b"), 5, false, 1, 2, null);   // checkpoint at 3, killed after 5
        List<Double> resumedLosses = new ArrayList<>();
        Map<String, float[]> resumed = runDiffusion(dir.resolve("b"), -1, true, 1, 2, resumedLosses);
        for (String k : straight.keySet()) assertArrayEquals(straight.get(k), resumed.get(k), 0f, k);
        assertEquals(straightLosses.subList(3, 8), resumedLosses);
        // same batches, other timesteps and noise: the first losses differ but are of one size
        assertNotEquals(oneWorker.get(0), straightLosses.get(0));
        assertEquals(oneWorker.get(0), straightLosses.get(0), oneWorker.get(0));
    }

    @Test
    void diffusionTrainingFromALatentPoolResumesExactly(@TempDir Path dir) throws IOException {
        List<Double> straightLosses = new ArrayList<>();
        Map<String, float[]> straight = runDiffusion(dir.resolve("a"), -1, false, 1, 2, 10, straightLosses);
        runDiffusion(dir.resolve("b"), 5, false, 1, 2, 10, null);   // checkpoint at 3, killed after 5; 8 steps x 4 = 3+ passes
        List<Double> resumedLosses = new ArrayList<>();
        Map<String, float[]> resumed = runDiffusion(dir.resolve("b"), -1, true, 1, 2, 10, resumedLosses);
        for (String k : straight.keySet()) assertArrayEquals(straight.get(k), resumed.get(k), 0f, k);
        assertEquals(straightLosses.subList(3, 8), resumedLosses);
        List<Double> fresh = new ArrayList<>();
        runDiffusion(dir.resolve("c"), -1, false, 1, 2, 0, fresh);
        assertNotEquals(fresh, straightLosses, "the pool's order is its own, not the loader's");
    }

    @Test
    void aLatentPoolHoldsTheEncodedSamplesAndServesEachOncePerPass() throws IOException {
        int n = 10;
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 1, 11);
             DataLoader again = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 1, 11)) {
            loader.seek(8);
            LatentPool pool = LatentPool.encode(loader, n, TasksTest::pool, m, 5, 3, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            assertEquals(n, pool.size());
            // the pool's samples are loader positions 8..17, encoded
            again.seek(8);
            List<float[]> expected = new ArrayList<>();
            List<String> captions = new ArrayList<>();
            for (int b = 0; b < 3; b++) {
                var batch = again.next();
                float[] z = pool(batch.images(m), null).toFloatArray();
                int per = z.length / 4;
                for (int i = 0; i < 4 && expected.size() < n; i++) {
                    expected.add(java.util.Arrays.copyOfRange(z, i * per, (i + 1) * per));
                    captions.add(batch.captions().get(i));
                }
            }
            // passes 0 and 1: each a permutation of the pool, in different orders
            List<Integer> first = new ArrayList<>(), second = new ArrayList<>();
            for (int p = 0; p < 2 * n; p++) (p < n ? first : second).add(pool.index(p));
            assertEquals(java.util.stream.IntStream.range(0, n).boxed().toList(), first.stream().sorted().toList());
            assertEquals(java.util.stream.IntStream.range(0, n).boxed().toList(), second.stream().sorted().toList());
            assertNotEquals(first, second);
            // batches: the samples at those positions; a seek continues the same order
            List<LatentPool.Draw> draws = new ArrayList<>();
            for (int b = 0; b < 5; b++) draws.add(pool.next());
            assertEquals(15, pool.position());
            for (int b = 0; b < 5; b++) {
                LatentPool.Draw d = draws.get(b);
                float[] all = d.latents(m, 0, 3, null).toFloatArray();
                assertArrayEquals(new long[] {3, 3, 16, 16}, d.latents(m, 0, 3, null).getShape().getShape());
                for (int i = 0; i < 3; i++) {
                    int k = pool.index(b * 3 + i);
                    assertArrayEquals(expected.get(k), java.util.Arrays.copyOfRange(all, i * 768, (i + 1) * 768), 0f);
                    assertEquals(captions.get(k), d.captions().get(i));
                }
            }
            pool.seek(6);
            assertEquals(draws.get(2).captions(), pool.next().captions());
            assertArrayEquals(draws.get(3).latents(), pool.next().latents(), 0f);
        }
    }

    @Test
    void aSavedLatentPoolLoadsBackWithItsKeyAndServesTheSameBatches(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 1, 11)) {
            LatentPool pool = LatentPool.encode(loader, 10, TasksTest::pool, m, 5, 3, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            Path file = dir.resolve("pool.safetensors");
            pool.save(file, "key-a", m);
            assertTrue(LatentPool.load(dir.resolve("none.safetensors"), "key-a", m, 5, 3).isEmpty());
            assertTrue(LatentPool.load(file, "key-b", m, 5, 3).isEmpty(), "a pool made from something else is not used");
            LatentPool back = LatentPool.load(file, "key-a", m, 5, 3).orElseThrow();
            assertEquals(pool.captions(), back.captions());
            pool.seek(7);
            back.seek(7);
            for (int b = 0; b < 5; b++) { // across a pass boundary: same order, latents, captions and scenes
                LatentPool.Draw x = pool.next(), y = back.next();
                assertArrayEquals(x.latents(), y.latents(), 0f);
                assertArrayEquals(x.shape(), y.shape());
                assertEquals(x.captions(), y.captions());
                assertEquals(x.scenes(), y.scenes());
                assertTrue(x.scenes().stream().allMatch(java.util.Objects::nonNull), "synthetic samples carry their scenes");
            }
            byte[] bytes = Files.readAllBytes(file);
            Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
            IOException e = assertThrows(IOException.class, () -> LatentPool.load(file, "key-a", m, 5, 3));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void aSplitStepHasTheWholeBatchsLossAndGradient() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            TinyAe ae = new TinyAe();
            ae.initialize(m, 0.1f, 1);
            ae.parameters().values().forEach(p -> p.get().setRequiresGradient(true));
            AutoencoderTask.Autoencoder model = new AutoencoderTask.Autoencoder() {
                @Override public NDArray[] encode(NDArray images) { return ae.encode(images); }
                @Override public NDArray decode(NDArray latents) { return ae.decode(latents); }
            };
            float[][] whole = new float[2][], split = new float[2][];
            float wholeLoss, splitLoss = 0;
            try (DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 6, 1, 3);
                 NDManager scope = m.newSubManager()) {
                AutoencoderTask task = new AutoencoderTask(model, loader, 1e-3, 0.1, 0);   // no sampling: same z either way
                try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                    NDArray loss = task.loss(scope, 0, new Random(1));
                    gc.backward(loss);
                    wholeLoss = loss.getFloat();
                }
                whole[0] = ae.parameters().get("enc.weight").get().getGradient().toFloatArray();
                whole[1] = ae.parameters().get("dec.weight").get().getGradient().toFloatArray();
            }
            ae.parameters().values().forEach(p -> ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.get()));
            try (DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 6, 1, 3);
                 NDManager scope = m.newSubManager()) {
                AutoencoderTask task = new AutoencoderTask(model, loader, 1e-3, 0.1, 0);
                var parts = task.split(scope, 0, new Random(1), 4);                       // slices of 1, 2, 1, 2 samples
                assertEquals(4, parts.size());
                for (var part : parts) {
                    try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                        NDArray loss = part.apply(scope);
                        gc.backward(loss);
                        splitLoss += loss.getFloat();
                    }
                }
                split[0] = ae.parameters().get("enc.weight").get().getGradient().toFloatArray();
                split[1] = ae.parameters().get("dec.weight").get().getGradient().toFloatArray();
            }
            assertEquals(wholeLoss, splitLoss, 1e-6 * wholeLoss);
            for (int i = 0; i < 2; i++) {
                double diff = 0, norm = 0;
                for (int j = 0; j < whole[i].length; j++) {
                    diff += Math.pow(whole[i][j] - split[i][j], 2);
                    norm += Math.pow(whole[i][j], 2);
                }
                // float32 sums in another order (and other conv kernels for other batch sizes); a slice weighted wrong is off by > 10%
                assertTrue(norm > 0 && Math.sqrt(diff / norm) < 1e-3, "relative gradient error " + Math.sqrt(diff / norm));
            }
        }
    }

    /** conv encoder to (mean, logvar) at 16x16x2 and a conv-transpose-free decoder (nearest upsample + conv). */
    static final class TinyAe extends Module {
        final Conv2d enc = register("enc", new Conv2d(3, 4, 4, 4, 0));
        final Conv2d dec = register("dec", new Conv2d(2, 3, 3, 1, 1));

        NDArray[] encode(NDArray x) {
            NDArray h = enc.forward(x);                                      // (B, 4, 16, 16)
            NDArray[] parts = h.split(2, 1).toArray(new NDArray[0]);
            return parts;
        }

        NDArray decode(NDArray z) {                                           // (B, 2, 16, 16) → (B, 3, 64, 64)
            NDArray up = z.repeat(2, 4).repeat(3, 4);
            return dec.forward(up);
        }
    }

    /** 60 steps of the tiny autoencoder; returns the loss of every step. */
    static List<Double> trainTinyAutoencoder(Path dir, boolean bfloat16) throws IOException {
        return trainTinyAutoencoder(dir, bfloat16, 1);
    }

    static List<Double> trainTinyAutoencoder(Path dir, boolean bfloat16, int workers) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 8, 2, 1)) {
            TinyAe ae = new TinyAe();
            ae.initialize(m, 0.1f, 1);
            AutoencoderTask task = new AutoencoderTask(new AutoencoderTask.Autoencoder() {
                @Override public NDArray[] encode(NDArray images) { return ae.encode(images); }
                @Override public NDArray decode(NDArray latents) { return ae.decode(latents); }
            }, loader, 1e-6, 0.1);
            List<Double> losses = new ArrayList<>();
            Trainer.Options o = new Trainer.Options(60, 5e-3, 5, 0.1, 0.9, 0.999, 1e-8, 0.0, 1.0, 0.99, 100, 10, 1,
                    bfloat16 ? Autocast.Precision.BFLOAT16 : Autocast.Precision.FLOAT32, workers);
            new Trainer(ae, o, JSON.createObjectNode(), dir, m).run(task, false, i -> losses.add(i.loss()), false);
            return losses;
        }
    }

    @Test
    void autoencoderTrainingReducesTheLoss(@TempDir Path dir) throws IOException {
        List<Double> losses = trainTinyAutoencoder(dir, false);
        double first = losses.subList(0, 5).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = losses.subList(55, 60).stream().mapToDouble(d -> d).average().orElseThrow();
        assertTrue(last < 0.6 * first, "loss " + first + " → " + last);
    }

    @Test
    void autoencoderTrainingWithTwoWorkersReducesTheLossAsOneDoes(@TempDir Path dir) throws IOException {
        List<Double> one = trainTinyAutoencoder(dir.resolve("one"), false, 1);
        List<Double> two = trainTinyAutoencoder(dir.resolve("two"), false, 2);
        assertEquals(one.get(0), two.get(0), 0.02 * one.get(0), "the same batch and weights: the first losses agree");
        double last1 = one.subList(55, 60).stream().mapToDouble(d -> d).average().orElseThrow();
        double last2 = two.subList(55, 60).stream().mapToDouble(d -> d).average().orElseThrow();
        assertEquals(last1, last2, 0.1 * last1, "after 60 steps the losses are within 10%");
    }

    @Test
    void bfloat16TrainingComputesInBfloat16AndLearnsAsFloat32Does(@TempDir Path dir) throws IOException {
        List<Double> f32 = trainTinyAutoencoder(dir.resolve("f32"), false);
        List<Double> bf16 = trainTinyAutoencoder(dir.resolve("bf16"), true);
        assertNotEquals(f32.get(0), bf16.get(0), "the first step's loss is the same: the layers did not run in bfloat16");
        assertEquals(f32.get(0), bf16.get(0), 0.02 * f32.get(0), "same weights and batch: the first losses agree to bfloat16 precision");
        double last32 = f32.subList(55, 60).stream().mapToDouble(d -> d).average().orElseThrow();
        double last16 = bf16.subList(55, 60).stream().mapToDouble(d -> d).average().orElseThrow();
        assertEquals(last32, last16, 0.1 * last32, "after 60 steps the losses are within 10%");
    }

    @Test
    void posteriorNoiseZeroDecodesTheMean() {
        try (NDManager m = NDManager.newBaseManager()) {
            TinyAe ae = new TinyAe();
            ae.initialize(m, 0.1f, 1);
            AutoencoderTask.Autoencoder model = new AutoencoderTask.Autoencoder() {
                @Override public NDArray[] encode(NDArray images) { return ae.encode(images); }
                @Override public NDArray decode(NDArray latents) { return ae.decode(latents); }
            };
            double[] loss = new double[4];
            int k = 0;
            for (double noise : new double[] {0, 1}) {
                for (long seed : new long[] {1, 2}) {
                    try (DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 2, 1);
                         NDManager scope = m.newSubManager()) {
                        loss[k++] = new AutoencoderTask(model, loader, 1e-6, 0.1, noise).loss(scope, 0, new Random(seed)).getFloat();
                    }
                }
            }
            assertEquals(loss[0], loss[1], 1e-7, "noise 0: the same batch gives the same loss whatever the random stream");
            assertNotEquals(loss[2], loss[3], "noise 1: z is sampled, so the random stream changes the loss");
            assertThrows(IllegalArgumentException.class, () -> new AutoencoderTask(model, null, 1e-6, 0.1, 1.5));
        }
    }
}
