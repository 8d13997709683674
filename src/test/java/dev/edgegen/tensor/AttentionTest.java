package dev.edgegen.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AttentionTest {
    /** q, k entries of std 1.6 give logits of std ~2.5: softmax rows are peaky, as in trained models. */
    private static final float QK_STD = 1.6f;

    private static NDArray randn(NDManager m, Random rng, float std, long... shape) {
        return Randn.randn(m, new Shape(shape), rng).muli(std);
    }

    @ParameterizedTest(name = "B={0} N={1} M={2} heads={3} D={4} causal={5}")
    @CsvSource({
        "2, 256, 256, 8, 40, false",
        "2, 256, 256, 8, 40, true",
        "2, 120, 77, 8, 40, false",
        "2, 64, 200, 1, 64, true",
        "2, 200, 64, 1, 64, true",
        "2, 150, 150, 8, 80, false",
        "1, 33, 77, 8, 80, true",
        "1, 1024, 1100, 2, 40, false",   // several of the fused kernel's query and key blocks
        "1, 1100, 1024, 2, 40, true",
    })
    void forwardMatchesReference(int b, int n, int m, int heads, int d, boolean causal) {
        Random rng = new Random(n * 31L + m * 7L + d + (causal ? 1 : 0));
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray q = randn(manager, rng, QK_STD, b, n, heads * d);
            NDArray k = randn(manager, rng, QK_STD, b, m, heads * d);
            NDArray v = randn(manager, rng, 1f, b, m, heads * d);
            NDArray expected = Attention.reference(q, k, v, heads, causal);
            NDArray actual = Attention.forward(q, k, v, heads, causal);
            assertEquals(expected.getShape(), actual.getShape());
            float err = actual.sub(expected).abs().max().getFloat();
            assertTrue(err < 1e-4f, "max abs error " + err);
            // the test is only meaningful if attention is peaky: some weight rows must be far from uniform
            float spread = expected.sub(v.mean(new int[] {1}, true)).abs().max().getFloat();
            assertTrue(spread > 0.5f, "outputs too close to the mean of v: " + spread);
        }
    }

    @Test
    void causalDiffersFromFullAttention() {
        Random rng = new Random(3);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray q = randn(manager, rng, QK_STD, 2, 50, 64);
            NDArray k = randn(manager, rng, QK_STD, 2, 50, 64);
            NDArray v = randn(manager, rng, 1f, 2, 50, 64);
            NDArray full = Attention.forward(q, k, v, 2, false);
            NDArray causal = Attention.forward(q, k, v, 2, true);
            assertTrue(full.sub(causal).abs().max().getFloat() > 0.1f);
            // query 0 may only see key 0: its output is v[0]
            NDArray first = causal.get(":, 0, :");
            assertTrue(first.sub(v.get(":, 0, :")).abs().max().getFloat() < 1e-5f);
        }
    }

    @Test
    void gradientsMatchReference() {
        Random rng = new Random(11);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray[] fast = inputs(manager, new Random(11));
            NDArray[] ref = inputs(manager, rng);
            NDArray w = randn(manager, new Random(5), 1f, 2, 40, 64);   // a random linear functional of the output
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                gc.backward(Attention.forward(fast[0], fast[1], fast[2], 4, true).mul(w).sum());
                gc.backward(Attention.reference(ref[0], ref[1], ref[2], 4, true).mul(w).sum());
            }
            for (int i = 0; i < 3; i++) {
                NDArray g = fast[i].getGradient();
                NDArray gRef = ref[i].getGradient();
                assertTrue(gRef.abs().max().getFloat() > 1e-2f, "reference gradient " + i + " vanishes");
                float err = g.sub(gRef).abs().max().getFloat();
                assertTrue(err < 1e-4f, "gradient " + i + " max abs error " + err);
            }
        }
    }

    private static NDArray[] inputs(NDManager manager, Random rng) {
        NDArray[] qkv = {
            randn(manager, rng, QK_STD, 2, 40, 64), randn(manager, rng, QK_STD, 2, 30, 64), randn(manager, rng, 1f, 2, 30, 64)
        };
        for (NDArray x : qkv) {
            x.setRequiresGradient(true);
        }
        return qkv;
    }

    @Test
    void resultAttachedToQueryManagerAndTemporariesClosed() {
        Random rng = new Random(7);
        try (NDManager root = NDManager.newBaseManager("PyTorch")) {
            NDArray k = randn(root, rng, QK_STD, 2, 77, 320);
            NDArray v = randn(root, rng, 1f, 2, 77, 320);
            int rootBefore = ((ai.djl.ndarray.BaseNDManager) root).getManagedArrays().size();
            for (int i = 0; i < 20; i++) {
                try (NDManager step = root.newSubManager()) {
                    NDArray q = randn(step, rng, QK_STD, 2, 64, 320);
                    int before = ((ai.djl.ndarray.BaseNDManager) step).getManagedArrays().size();
                    NDArray out = Attention.forward(q, k, v, 8, false);
                    assertEquals(step, out.getManager());
                    assertEquals(before + 1, ((ai.djl.ndarray.BaseNDManager) step).getManagedArrays().size(),
                            "only the result may remain in q's manager");
                    assertFalse(out.isReleased());
                }
            }
            assertEquals(rootBefore, ((ai.djl.ndarray.BaseNDManager) root).getManagedArrays().size(),
                    "nothing may leak into k's and v's manager");
        }
    }

    @Test
    void repeatedCallsDoNotGrowNativeMemory() throws java.io.IOException {
        Random rng = new Random(13);
        try (NDManager root = NDManager.newBaseManager("PyTorch")) {
            NDArray q = randn(root, rng, QK_STD, 2, 512, 320);   // each output is 1.3 MB
            long baseline = 0;
            for (int i = 0; i < 200; i++) {
                if (i == 20) {
                    baseline = residentKb();
                }
                try (NDManager step = root.newSubManager()) {
                    q.tempAttach(step);
                    Attention.forward(q, q, q, 8, i % 2 == 0);
                }
            }
            long growthMb = (residentKb() - baseline) / 1024;
            assertTrue(growthMb < 60, "resident memory grew by " + growthMb + " MB over 180 calls");
        }
    }

    private static long residentKb() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void badShapesAreRejectedWithClearMessages() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray q = manager.zeros(new Shape(2, 10, 64));
            NDArray k = manager.zeros(new Shape(2, 12, 64));
            NDArray narrow = manager.zeros(new Shape(2, 12, 32));
            NDArray flat = manager.zeros(new Shape(20, 64));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Attention.forward(q, k, k, 3, false))
                    .getMessage().contains("divisible"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Attention.forward(q, narrow, narrow, 2, false))
                    .getMessage().contains("width"));
            assertThrows(IllegalArgumentException.class, () -> Attention.forward(flat, k, k, 2, false));
            assertThrows(IllegalArgumentException.class, () -> Attention.forward(q, k, narrow, 2, false));
        }
    }
}
