package dev.edgegen.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.nn.Parameter;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClipTextModelTest {

    @Test
    void vitL14HasHuggingFaceKeysAndParameterCount() {
        ClipTextModel m = new ClipTextModel(ClipTextConfig.vitL14());
        assertEquals(123_060_480L, m.parameterCount());
        Map<String, Parameter> p = m.parameters();
        assertEquals(2 + 12 * 16 + 2, p.size());
        assertEquals(new Shape(49408, 768), p.get("text_model.embeddings.token_embedding.weight").shape());
        assertEquals(new Shape(77, 768), p.get("text_model.embeddings.position_embedding.weight").shape());
        for (String k : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj")) {
            assertEquals(new Shape(768, 768), p.get("text_model.encoder.layers.11." + k + ".weight").shape());
            assertEquals(new Shape(768), p.get("text_model.encoder.layers.11." + k + ".bias").shape());
        }
        assertEquals(new Shape(3072, 768), p.get("text_model.encoder.layers.0.mlp.fc1.weight").shape());
        assertEquals(new Shape(768, 3072), p.get("text_model.encoder.layers.0.mlp.fc2.weight").shape());
        assertEquals(new Shape(768), p.get("text_model.encoder.layers.5.layer_norm1.weight").shape());
        assertEquals(new Shape(768), p.get("text_model.encoder.layers.5.layer_norm2.bias").shape());
        assertEquals(new Shape(768), p.get("text_model.final_layer_norm.weight").shape());
    }

    /** Every parameter random (std 0.2, LayerNorm scales around 1) so attention, biases and norms all matter. */
    private static void randomize(ClipTextModel m, NDManager manager, long seed) {
        Random r = new Random(seed);
        for (var e : m.parameters().entrySet()) {
            Shape s = e.getValue().shape();
            float[] v = new float[Math.toIntExact(s.size())];
            boolean scale = e.getKey().contains("norm") && e.getKey().endsWith("weight");
            for (int i = 0; i < v.length; i++) {
                v[i] = (scale ? 1f : 0f) + 0.2f * (float) r.nextGaussian();
            }
            e.getValue().set(manager.create(v, s));
        }
    }

    private static long[] randomIds(int b, int n, int vocab, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[b * n];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }

    @Test
    void tinyForwardMatchesPlainJavaReference() {
        for (ClipTextConfig.Activation act : ClipTextConfig.Activation.values()) {
            ClipTextConfig c = new ClipTextConfig(49408, 32, 64, 2, 4, 77, act, 1e-5f);
            try (NDManager manager = NDManager.newBaseManager()) {
                ClipTextModel m = new ClipTextModel(c);
                randomize(m, manager, 7);
                int b = 2;
                int n = 77;
                long[] ids = randomIds(b, n, c.vocabSize(), 3);
                for (int skip = 0; skip <= 1; skip++) {
                    NDArray out = m.forward(manager.create(ids, new Shape(b, n)), skip);
                    assertEquals(new Shape(b, n, 32), out.getShape());
                    assertEquals(DataType.FLOAT32, out.getDataType());
                    float[] got = out.toFloatArray();
                    float[] want = ClipTextReference.forward(m, ids, b, n, skip);
                    assertClose(want, got, 2e-4f, act + " skip " + skip);
                }
            }
        }
    }

    private static void assertClose(float[] want, float[] got, float tol, String what) {
        assertEquals(want.length, got.length);
        float maxDiff = 0;
        for (int i = 0; i < want.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
        }
        assertTrue(maxDiff < tol, what + ": max |diff| " + maxDiff);
    }

    @Test
    void causalMaskHidesLaterTokens() {
        ClipTextConfig c = ClipTextConfig.tiny();
        try (NDManager manager = NDManager.newBaseManager()) {
            ClipTextModel m = new ClipTextModel(c);
            randomize(m, manager, 11);
            long[] ids = randomIds(1, 77, c.vocabSize(), 5);
            float[] a = m.forward(manager.create(ids, new Shape(1, 77))).toFloatArray();
            ids[10] = (ids[10] + 1234) % c.vocabSize();
            float[] b = m.forward(manager.create(ids, new Shape(1, 77))).toFloatArray();
            int d = c.hiddenSize();
            for (int i = 0; i < 10 * d; i++) {
                assertEquals(a[i], b[i], 1e-6f, "position " + i / d + " must not see token 10");
            }
            for (int pos = 10; pos < 77; pos++) {
                float diff = 0;
                for (int j = 0; j < d; j++) {
                    diff = Math.max(diff, Math.abs(a[pos * d + j] - b[pos * d + j]));
                }
                assertTrue(diff > 1e-3f, "position " + pos + " must see token 10");
            }
        }
    }

    @Test
    void forwardFreesItsIntermediatesAndAcceptsTokenizerOutput() {
        ClipTokenizer tok = ClipVocabFixture.tokenizer();
        try (NDManager manager = NDManager.newBaseManager()) {
            ClipTextModel m = new ClipTextModel(ClipTextConfig.tiny());
            m.initialize(manager, 0.02f, 1);
            NDArray ids = ClipTokenizer.Tokens.batch(manager, List.of(tok.encode("a photo of a cat"), tok.encode("")));
            assertEquals(new Shape(2, 77), ids.getShape());
            assertEquals(DataType.INT64, ids.getDataType());
            int before = manager.getManagedArrays().size();
            NDArray out = m.forward(ids);
            assertEquals(before + 1, manager.getManagedArrays().size(), "only the result stays in the caller's manager");
            assertEquals(manager, out.getManager());
            assertEquals(manager, ids.getManager());
            NDArray out32 = m.forward(ids.toType(DataType.INT32, false));
            assertTrue(out.allClose(out32, 0, 1e-6, false));
        }
    }

    @Test
    void rejectsBadIds() {
        ClipTextConfig c = ClipTextConfig.tiny();
        try (NDManager manager = NDManager.newBaseManager()) {
            ClipTextModel m = new ClipTextModel(c);
            m.initialize(manager, 0.02f, 1);
            var range = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(manager.create(new long[] {49406, 49408}, new Shape(1, 2))));
            assertTrue(range.getMessage().contains("49408"), range.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.forward(manager.create(new long[] {1, 2}, new Shape(2))));
            assertThrows(IllegalArgumentException.class, () -> m.forward(manager.zeros(new Shape(1, 78), DataType.INT64)));
            assertThrows(IllegalArgumentException.class, () -> m.forward(manager.zeros(new Shape(1, 77), DataType.FLOAT32)));
            assertThrows(IllegalArgumentException.class, () -> m.forward(manager.zeros(new Shape(1, 77), DataType.INT64), 2));
        }
    }
}
