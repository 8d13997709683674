package dev.edgegen.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.InputStream;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Our BERT on DJL against ONNX Runtime running the original ONNX graph, on the same token ids. */
class MiniLmTextEncoderTest {
    static final List<String> PROMPTS = List.of(
            "a red apple",
            "a small blue square to the left of a green star on a white background, emoji style",
            "");

    @Test
    void perTokenOutputsMatchOnnxRuntime() throws Exception {
        try (NDManager manager = NDManager.newBaseManager();
             MiniLmTextEncoder enc = MiniLmTextEncoder.load(manager, 16)) {
            assertEquals(22_565_376L, enc.model().parameterCount(), "BERT-6L-384 without pooler");
            long[][] tok = enc.tokenize(PROMPTS);
            assertEquals(101, tok[0][0], "[CLS]");
            assertEquals(102, tok[0][2 * 16 + 1], "[CLS] and [SEP] around an empty prompt");
            assertEquals(0, tok[1][2 * 16 + 2], "then padding");
            assertEquals(102, tok[0][16 + 15], "a long prompt is truncated and keeps [SEP]");
            MiniLmTextEncoder.Tokens apple = enc.tokenizeOne("a red apple");
            assertEquals(5, apple.count());
            assertEquals(16, apple.ids().length);
            assertTrue(!apple.truncated() && enc.tokenizeOne(PROMPTS.get(1)).truncated());
            MiniLmTextEncoder.Output out = enc.encode(PROMPTS, manager);
            assertEquals(new Shape(3, 16, 384), out.hidden().getShape());
            assertEquals(new Shape(3, 16), out.mask().getShape());
            float[] ours = out.hidden().toFloatArray();

            float[] reference = onnxRuntime(tok[0], tok[1], 3, 16);
            double minCos = 1, maxAbs = 0;
            for (int t = 0; t < 3 * 16; t++) {
                if (tok[1][t] == 0) continue;
                double dot = 0, a = 0, b = 0;
                for (int i = 0; i < 384; i++) {
                    double x = ours[t * 384 + i], y = reference[t * 384 + i];
                    maxAbs = Math.max(maxAbs, Math.abs(x - y));
                    dot += x * y;
                    a += x * x;
                    b += y * y;
                }
                minCos = Math.min(minCos, dot / Math.sqrt(a * b));
            }
            System.out.println("MiniLM vs ONNX Runtime: min per-token cosine " + minCos + ", max abs difference " + maxAbs);
            assertTrue(minCos >= 0.9999, "min cosine " + minCos);

            NDArray e = MiniLmTextEncoder.meanPool(enc.encode(List.of("a red apple", "an apple that is red", "a blue square"), manager));
            float[] v = e.toFloatArray();
            double same = dot(v, 0, 1), other = dot(v, 0, 2);
            assertTrue(same > other + 0.2, "paraphrase " + same + " vs unrelated " + other);
            assertThrows(IllegalArgumentException.class, () -> enc.encode(List.of(), manager));
        }
    }

    private static double dot(float[] v, int i, int j) {
        double s = 0;
        for (int k = 0; k < 384; k++) s += v[i * 384 + k] * v[j * 384 + k];
        return s;
    }

    private static float[] onnxRuntime(long[] ids, long[] mask, int b, int l) throws Exception {
        byte[] model;
        try (InputStream in = MiniLmTextEncoderTest.class.getClassLoader().getResourceAsStream(MiniLmTextEncoder.ONNX_RESOURCE)) {
            model = in.readAllBytes();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(model, opts);
                 OnnxTensor tIds = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {b, l});
                 OnnxTensor tMask = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {b, l});
                 OnnxTensor tType = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * l]), new long[] {b, l});
                 OrtSession.Result r = session.run(Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tType))) {
                OnnxTensor hidden = (OnnxTensor) r.get(0);
                assertArrayEquals(new long[] {b, l, 384}, hidden.getInfo().getShape());
                float[] out = new float[b * l * 384];
                hidden.getFloatBuffer().get(out);
                return out;
            }
        }
    }
}
