package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.data.Scene.Colour;
import dev.edgegen.data.Scene.Obj;
import dev.edgegen.data.Scene.ShapeKind;
import dev.edgegen.nn.AttentionMaps;
import dev.edgegen.nn.CrossAttention;
import dev.edgegen.text.MiniLmTextEncoder;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.unet.UNetConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttentionLossTest {
    private static final int MAX = 12;

    /** Whitespace "tokenizer": [CLS]=1, each word a hash-derived id, [SEP]=2, padded with 0 to MAX. */
    static MiniLmTextEncoder.Tokens tokens(String text) {
        int[] ids = new int[MAX];
        ids[0] = 1;
        int n = 1;
        for (String w : text.split(" ")) if (n < MAX - 1) ids[n++] = 1000 + Math.floorMod(w.hashCode(), 50000);
        ids[n++] = 2;
        return new MiniLmTextEncoder.Tokens(ids, n, false);
    }

    private static final Obj RED_CIRCLE = new Obj(ShapeKind.CIRCLE, Colour.RED, Scene.Size.LARGE, 16, 32, 14);
    private static final Obj BLUE_SQUARE = new Obj(ShapeKind.SQUARE, Colour.BLUE, Scene.Size.SMALL, 48, 32, 8);
    private static final Scene TWO = new Scene(Scene.Background.WHITE, List.of(RED_CIRCLE, BLUE_SQUARE), Scene.Relation.LEFT_OF);

    @Test
    void colourAndShapeTokensOfEachObjectGetItsMask() {
        AttentionLoss loss = new AttentionLoss(AttentionLossTest::tokens);
        // [CLS] a blue square right of a red circle [SEP]: tokens 2, 3 are the square's, 7, 8 the circle's
        List<String> captions = List.of("a blue square right of a red circle", "", "a cat");
        List<Scene> scenes = new ArrayList<>(List.of(TWO, TWO));
        scenes.add(null);
        AttentionLoss.Targets t = loss.targets(captions, scenes);
        Map<Integer, float[]> first = t.perSample().get(0);
        assertEquals(List.of(2, 3, 7, 8), List.copyOf(first.keySet()));
        assertArrayEquals(AttentionLoss.mask(BLUE_SQUARE), first.get(2), 0f);
        assertArrayEquals(AttentionLoss.mask(RED_CIRCLE), first.get(8), 0f);
        assertTrue(t.perSample().get(1).isEmpty(), "a dropped caption supervises nothing");
        assertTrue(t.perSample().get(2).isEmpty(), "no scene, nothing to supervise");
        // the masks: coverage of 4x4-pixel cells; the circle's area is π·14² ≈ 616 px² = 38.5 cells
        float area = 0;
        for (float v : AttentionLoss.mask(RED_CIRCLE)) area += v;
        assertEquals(Math.PI * 14 * 14 / 16, area, 3.0);
        assertEquals(1f, AttentionLoss.mask(RED_CIRCLE)[8 * 16 + 4], 0f, "the centre cell (4, 8) is inside");
        assertEquals(0f, AttentionLoss.mask(RED_CIRCLE)[8 * 16 + 12], 0f, "the square's cell is not");
    }

    @Test
    void withMiniLmsTokenizerEveryObjectOfOneAndTwoObjectCaptionsIsFound() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
             MiniLmTextEncoder text = MiniLmTextEncoder.load(m, 16)) {
            AttentionLoss loss = new AttentionLoss(text::tokenizeOne);
            int scenes = 0;
            for (long k = 0; k < 300; k++) {
                var sample = SyntheticScenes.source(SyntheticScenes.Split.TRAIN).get(k, new java.util.Random(k));
                Scene s = sample.scene();
                if (s.count() > 2) continue;
                Map<Integer, float[]> t = loss.targets(List.of(sample.caption()), List.of(s)).perSample().get(0);
                // every colour and shape word is one token; two equal phrases both get the union of the masks
                assertEquals(2 * s.count(), t.size(), sample.caption());
                scenes++;
            }
            assertTrue(scenes > 150, scenes + " scenes checked");
        }
    }

    @Test
    void theLossIsTheShareOfAttentionOutsideTheMaskAndItsGradientFlows() {
        AttentionLoss loss = new AttentionLoss(AttentionLossTest::tokens);
        AttentionLoss.Targets t = loss.targets(List.of("a red circle"), List.of(
                new Scene(Scene.Background.WHITE, List.of(RED_CIRCLE), null)));
        float[] pooled = AttentionLoss.pool(AttentionLoss.mask(RED_CIRCLE), 8);       // 8x8 map
        int m = MAX;
        try (NDManager mgr = NDManager.newBaseManager()) {
            // attention of every token spread evenly over the 64 positions: the outside share is 1 − mean coverage
            float[] uniform = new float[64 * m];
            java.util.Arrays.fill(uniform, 1f / 64);
            double cover = 0;
            for (float v : pooled) cover += v;
            assertEquals(1 - cover / 64, loss.loss(List.of(mgr.create(uniform, new Shape(1, 64, m))), t).getFloat(), 1e-5);
            // all mass on cells fully inside the object: 0; all on a cell outside: 1
            float[] inside = new float[64 * m], outside = new float[64 * m];
            for (int j = 0; j < m; j++) {
                inside[(4 * 8 + 2) * m + j] = 1;    // row 4, column 2: the circle's centre (16, 32) / 8 px
                outside[(4 * 8 + 7) * m + j] = 1;
            }
            assertEquals(1f, pooled[4 * 8 + 2], 0f);
            assertEquals(0f, loss.loss(List.of(mgr.create(inside, new Shape(1, 64, m))), t).getFloat(), 1e-6);
            assertEquals(1f, loss.loss(List.of(mgr.create(outside, new Shape(1, 64, m))), t).getFloat(), 1e-6);
            // gradient: moving mass into the mask lowers the loss
            NDArray logits = mgr.zeros(new Shape(1, 64, m));
            logits.setRequiresGradient(true);
            try (var gc = Engine.getInstance().newGradientCollector()) {
                NDArray a = logits.softmax(1);
                NDArray l = loss.loss(List.of(a, a.mul(1f)), t);                     // two layers: their mean
                assertEquals(1 - cover / 64, l.getFloat(), 1e-5);
                gc.backward(l);
            }
            float[] g = logits.getGradient().toFloatArray();
            assertTrue(g[(4 * 8 + 2) * m + 2] < 0 && g[(4 * 8 + 7) * m + 2] > 0, "the colour token is pulled into the mask");
            assertEquals(0f, g[(4 * 8 + 2) * m + 5], 0f, "an unsupervised token gets no gradient");
        }
    }

    /**
     * The first batch's loss of a tiny UNet with attention-loss weight {@code weight} (same batch, timesteps, noise),
     * the gradient's L1 norm on a cross-attention key, and the attention term the task then reports (NaN: none).
     */
    private static float[] diffusionLoss(double weight) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 1, 11)) {
            UNet2DConditionModel unet = new UNet2DConditionModel(UNetConfig.tiny());
            unet.initializeFanIn(m, 3);
            DiffusionTask.LatentEncoder latents = (images, rng) -> {
                NDArray z = images.reshape(-1, 3, 8, 8, 8, 8).mean(new int[] {5}).mean(new int[] {3});   // (B, 3, 8, 8)
                return z.concat(z.mean(new int[] {1}, true), 1);                                          // (B, 4, 8, 8)
            };
            DiffusionTask.ContextEncoder text = (captions, mm) -> {
                float[] v = new float[captions.size() * MAX * 32];
                for (int i = 0; i < captions.size(); i++) {
                    java.util.Random r = new java.util.Random(captions.get(i).hashCode());
                    for (int j = 0; j < MAX * 32; j++) v[i * MAX * 32 + j] = (float) r.nextGaussian();
                }
                return mm.create(v, new Shape(captions.size(), MAX, 32));
            };
            DiffusionTask task = new DiffusionTask(unet::forward, latents, text, loader, null, NoiseSchedule.sd(),
                    DiffusionTask.Prediction.EPSILON, 0, 5).withAttentionLoss(new AttentionLoss(AttentionLossTest::tokens), weight);
            unet.parameters().values().forEach(p -> p.get().setRequiresGradient(true));
            try (var gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = task.loss(m, 0, new java.util.Random(4));
                gc.backward(loss);
                NDArray g = unet.parameters().get("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight").get().getGradient();
                float term = task.takeTermSums().getOrDefault("attention_loss", Double.NaN).floatValue();   // one step: its term
                assertEquals(0.0, task.takeTermSums().getOrDefault("attention_loss", 0.0), 0.0, "taking the sums resets them");
                return new float[] {loss.getFloat(), g.abs().sum().getFloat(), term};
            }
        }
    }

    @Test
    void theDiffusionTaskAddsTheWeightedAttentionLossAndItsGradient() throws Exception {
        float[] plain = diffusionLoss(0), weighted = diffusionLoss(0.5);
        float added = weighted[0] - plain[0];
        assertTrue(added > 0.05f && added <= 0.5f, "0.5 x a loss in (0.1, 1]: " + added);
        assertTrue(weighted[1] != plain[1], "the cross-attention keys get the attention loss's gradient too");
        assertTrue(Float.isNaN(plain[2]), "no attention term without the loss");
        assertEquals(added / 0.5f, weighted[2], 1e-4, "the logged term is the loss added, before its weight");
    }

    @Test
    void recordingCrossAttentionChangesNothingAndYieldsProbabilities() {
        try (NDManager m = NDManager.newBaseManager()) {
            CrossAttention attn = new CrossAttention(8, 6, 2, 4);
            attn.initialize(m, 0.5f, 7);
            CrossAttention self = new CrossAttention(8, 8, 2, 4);
            self.initialize(m, 0.5f, 8);
            NDArray x = m.randomNormal(new Shape(3, 16, 8));
            NDArray ctx = m.randomNormal(new Shape(3, 5, 6));
            float[] fused = attn.forward(x, ctx).toFloatArray();
            List<NDArray> maps;
            float[] recorded;
            try (AttentionMaps r = AttentionMaps.record(m)) {
                recorded = attn.forward(x, ctx).toFloatArray();
                self.forward(x, null);                                                    // self-attention: not recorded
                maps = r.maps();
            }
            assertArrayEquals(fused, recorded, 1e-5f);
            assertEquals(1, maps.size());
            assertEquals(new Shape(3, 16, 5), maps.get(0).getShape());
            for (float s : maps.get(0).sum(new int[] {2}).toFloatArray()) assertEquals(1f, s, 1e-5f);
            try (AttentionMaps r = AttentionMaps.record(m)) {
                assertTrue(r.maps().isEmpty(), "a closed recorder is gone; a new one starts empty");
            }
        }
    }
}
