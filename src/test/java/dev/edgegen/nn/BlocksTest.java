package dev.edgegen.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.tensor.Randn;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each shared block against the plain-loop math in {@link Ref}, with std-0.2 random weights. */
class BlocksTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() { manager = NDManager.newBaseManager(); }

    @AfterAll
    static void tearDown() { manager.close(); }

    static NDArray randn(long seed, long... shape) {
        return Randn.randn(manager, new Shape(shape), new Random(seed));
    }

    /** Random values also for the norms' ONES/ZEROS parameters, so affine terms are exercised. */
    static void randomize(Module m, long seed) {
        m.initialize(manager, 0.2f, seed);
        Random r = new Random(seed + 1);
        for (Parameter p : m.parameters().values()) {
            if (p.init() != Parameter.Init.NORMAL) {
                float[] v = p.get().toFloatArray();
                for (int i = 0; i < v.length; i++) v[i] = (float) ((p.init() == Parameter.Init.ONES ? 1 : 0) + 0.2 * r.nextGaussian());
                p.set(manager.create(v, p.shape()));
            }
        }
    }

    static void assertClose(float[] expected, float[] actual, float tol) {
        assertEquals(expected.length, actual.length);
        float worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        assertTrue(worst <= tol, "max abs difference " + worst + " > " + tol);
    }

    @Test
    void resnetWithTimeEmbeddingAndShortcutMatchesReference() {
        ResnetBlock2D r = new ResnetBlock2D(8, 12, 6, 4, 1e-5f);
        randomize(r, 1);
        NDArray x = randn(2, 2, 8, 5, 4);
        NDArray t = randn(3, 2, 6);
        float[] got = r.forward(x, t).toFloatArray();
        assertClose(Ref.resnet(r, x.toFloatArray(), t.toFloatArray(), 2, 5, 4), got, 2e-4f);
        assertEquals(r.conv1.weight.shape(), new Shape(12, 8, 3, 3));
        assertTrue(r.parameters().containsKey("conv_shortcut.weight"));
        assertThrows(IllegalArgumentException.class, () -> r.forward(x, null));
    }

    @Test
    void resnetWithoutTimeEmbeddingMatchesReference() {
        ResnetBlock2D r = new ResnetBlock2D(8, 8, 0, 2, 1e-6f);
        randomize(r, 4);
        NDArray x = randn(5, 1, 8, 4, 4);
        assertClose(Ref.resnet(r, x.toFloatArray(), null, 1, 4, 4), r.forward(x, null).toFloatArray(), 2e-4f);
        assertTrue(!r.parameters().containsKey("conv_shortcut.weight") && !r.parameters().containsKey("time_emb_proj.weight"));
    }

    @Test
    void downsamplePaddingOneAndZero() {
        Downsample2D d1 = new Downsample2D(4, 6, 1);
        Downsample2D d0 = new Downsample2D(4, 6, 0);
        randomize(d1, 6);
        randomize(d0, 7);
        NDArray x = randn(8, 2, 4, 6, 6);
        float[] xs = x.toFloatArray();
        NDArray y1 = d1.forward(x);
        NDArray y0 = d0.forward(x);
        assertEquals(new Shape(2, 6, 3, 3), y1.getShape());
        assertEquals(new Shape(2, 6, 3, 3), y0.getShape());
        assertClose(Ref.conv2d(xs, 2, 4, 6, 6, Ref.w(d1.conv.weight), Ref.w(d1.conv.bias), 6, 3, 2, 1, 1), y1.toFloatArray(), 1e-4f);
        // padding 0: one extra row/column of zeros at the bottom/right only
        assertClose(Ref.conv2d(xs, 2, 4, 6, 6, Ref.w(d0.conv.weight), Ref.w(d0.conv.bias), 6, 3, 2, 0, 1), y0.toFloatArray(), 1e-4f);
    }

    @Test
    void upsampleIsNearestThenConv() {
        Upsample2D u = new Upsample2D(3, 5);
        randomize(u, 9);
        NDArray x = randn(10, 2, 3, 3, 4);
        float[] xs = x.toFloatArray();
        float[] up = new float[2 * 3 * 6 * 8];
        for (int n = 0; n < 6; n++)
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 8; j++) up[(n * 6 + i) * 8 + j] = xs[(n * 3 + i / 2) * 4 + j / 2];
        assertArrayEquals(up, Upsample2D.nearest2x(x).toFloatArray());
        NDArray y = u.forward(x);
        assertEquals(new Shape(2, 5, 6, 8), y.getShape());
        assertClose(Ref.conv2d(up, 2, 3, 6, 8, Ref.w(u.conv.weight), Ref.w(u.conv.bias), 5, 3, 1, 1, 1), y.toFloatArray(), 1e-4f);
    }

    @Test
    void crossAttentionMatchesReference() {
        CrossAttention a = new CrossAttention(16, 12, 4, 4);
        randomize(a, 11);
        assertEquals(new java.util.HashSet<>(java.util.List.of("to_q.weight", "to_k.weight", "to_v.weight", "to_out.0.weight", "to_out.0.bias")),
                a.parameters().keySet());
        NDArray x = randn(12, 2, 7, 16);
        NDArray c = randn(13, 2, 5, 12);
        assertClose(Ref.crossAttention(a, x.toFloatArray(), c.toFloatArray(), 2, 7, 5), a.forward(x, c).toFloatArray(), 1e-4f);
        assertThrows(IllegalArgumentException.class, () -> a.forward(x, randn(14, 2, 5, 16)));
    }

    @Test
    void transformer2dConvAndLinearProjectionMatchReference() {
        for (boolean linear : new boolean[] {false, true}) {
            Transformer2DModel t = new Transformer2DModel(16, 2, 8, 2, 12, 4, linear);
            randomize(t, linear ? 21 : 22);
            NDArray x = randn(23, 2, 16, 3, 4);
            NDArray c = randn(24, 2, 5, 12);
            int b = 2, n = 12, ch = 16;
            float[] norm = Ref.groupNorm(x.toFloatArray(), b, ch, n, 4, Ref.w(t.norm.weight), Ref.w(t.norm.bias), 1e-6f);
            float[] seq;
            if (linear) {
                Linear p = (Linear) t.projIn;
                seq = Ref.linear(Ref.transpose12(norm, b, ch, n), b * n, ch, Ref.w(p.weight), Ref.w(p.bias), ch);
            } else {
                Conv2d p = (Conv2d) t.projIn;
                seq = Ref.transpose12(Ref.conv2d(norm, b, ch, 3, 4, Ref.w(p.weight), Ref.w(p.bias), ch, 1, 1, 0, 0), b, ch, n);
            }
            for (BasicTransformerBlock blk : t.blocks.items()) seq = Ref.transformerBlock(blk, seq, c.toFloatArray(), b, n, 5, ch);
            float[] y;
            if (linear) {
                Linear p = (Linear) t.projOut;
                y = Ref.transpose12(Ref.linear(seq, b * n, ch, Ref.w(p.weight), Ref.w(p.bias), ch), b, n, ch);
            } else {
                Conv2d p = (Conv2d) t.projOut;
                y = Ref.conv2d(Ref.transpose12(seq, b, n, ch), b, ch, 3, 4, Ref.w(p.weight), Ref.w(p.bias), ch, 1, 1, 0, 0);
            }
            assertClose(Ref.add(y, x.toFloatArray()), t.forward(x, c).toFloatArray(), 5e-4f);
        }
    }

    @Test
    void transformerKeysFollowDiffusers() {
        Transformer2DModel t = new Transformer2DModel(16, 2, 8, 1, 12, 4, false);
        var keys = t.parameters();
        for (String k : new String[] {"norm.weight", "proj_in.weight", "transformer_blocks.0.attn2.to_k.weight",
                "transformer_blocks.0.ff.net.0.proj.weight", "transformer_blocks.0.ff.net.2.bias", "transformer_blocks.0.norm3.bias",
                "proj_out.bias"}) {
            assertTrue(keys.containsKey(k), k);
        }
        assertEquals(new Shape(2 * 64, 16), keys.get("transformer_blocks.0.ff.net.0.proj.weight").shape());
        assertEquals(new Shape(16, 12), keys.get("transformer_blocks.0.attn2.to_k.weight").shape());
        assertEquals(new Shape(16, 16, 1, 1), keys.get("proj_in.weight").shape());
    }

    @Test
    void vaeAttentionBlockMatchesReference() {
        AttentionBlock a = new AttentionBlock(16, 4, 1e-6f);
        randomize(a, 31);
        NDArray x = randn(32, 2, 16, 3, 3);
        int b = 2, n = 9, c = 16;
        float[] seq = Ref.transpose12(Ref.groupNorm(x.toFloatArray(), b, c, n, 4, Ref.w(a.groupNorm.weight), Ref.w(a.groupNorm.bias), 1e-6f), b, c, n);
        float[] q = Ref.linear(seq, b * n, c, Ref.w(a.toQ.weight), Ref.w(a.toQ.bias), c);
        float[] k = Ref.linear(seq, b * n, c, Ref.w(a.toK.weight), Ref.w(a.toK.bias), c);
        float[] v = Ref.linear(seq, b * n, c, Ref.w(a.toV.weight), Ref.w(a.toV.bias), c);
        float[] o = Ref.linear(Ref.attention(q, k, v, b, n, n, 1, c), b * n, c, Ref.w(a.toOut.weight), Ref.w(a.toOut.bias), c);
        assertClose(Ref.add(Ref.transpose12(o, b, n, c), x.toFloatArray()), a.forward(x).toFloatArray(), 2e-4f);
        assertTrue(a.parameters().containsKey("to_out.0.weight") && a.parameters().containsKey("group_norm.bias"));
    }

    @Test
    void timestepEmbeddingMatchesFormula() {
        float[] t = {0f, 1f, 981f};
        float[] e = TimestepEmbedding.sinusoidal(manager, t, 320, true, 0).toFloatArray();
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < 160; i++) {
                double f = Math.exp(-Math.log(10000) * i / 160.0);
                assertEquals(Math.cos(t[b] * f), e[b * 320 + i], 2e-3, "cos at " + b + "," + i);
                assertEquals(Math.sin(t[b] * f), e[b * 320 + 160 + i], 2e-3, "sin at " + b + "," + i);
            }
        float[] unflipped = TimestepEmbedding.sinusoidal(manager, new float[] {5f}, 8, false, 1).toFloatArray();
        assertEquals(Math.sin(5 * Math.exp(-Math.log(10000) * 1 / 3.0)), unflipped[1], 1e-5);
        TimestepEmbedding te = new TimestepEmbedding(8, 16, true, 0);
        randomize(te, 41);
        NDArray ts = manager.create(new float[] {3f, 700f});
        float[] p = TimestepEmbedding.sinusoidal(manager, new float[] {3f, 700f}, 8, true, 0).toFloatArray();
        float[] ref = Ref.linear(Ref.silu(Ref.linear(p, 2, 8, Ref.w(te.linear1.weight), Ref.w(te.linear1.bias), 16)),
                2, 16, Ref.w(te.linear2.weight), Ref.w(te.linear2.bias), 16);
        assertClose(ref, te.forward(ts).toFloatArray(), 1e-4f);
    }

    @Test
    void blockForwardLeavesNoArraysBehind() {
        ResnetBlock2D r = new ResnetBlock2D(8, 8, 4, 4, 1e-5f);
        Transformer2DModel t = new Transformer2DModel(8, 2, 4, 1, 8, 4, false);
        try (NDManager weights = NDManager.newBaseManager(); NDManager step = NDManager.newBaseManager()) {
            r.initialize(weights, 0.2f, 1);
            t.initialize(weights, 0.2f, 2);
            NDArray x = step.ones(new Shape(1, 8, 4, 4));
            NDArray temb = step.ones(new Shape(1, 4));
            NDArray ctx = step.ones(new Shape(1, 3, 8));
            float[] first = t.forward(r.forward(x, temb), ctx).toFloatArray();
            int w0 = weights.getManagedArrays().size();
            int s0 = step.getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                r.forward(x, temb).close();
                t.forward(x, ctx).close();
            }
            assertEquals(w0, weights.getManagedArrays().size(), "arrays leaked into the weights' manager");
            assertArrayEquals(first, t.forward(r.forward(x, temb), ctx).toFloatArray(), "weights changed by a forward");
            s0 += 2;
            assertEquals(s0, step.getManagedArrays().size(), "arrays leaked into the caller's manager");
        }
    }
}
