package dev.edgegen.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DenormalsTest {
    /** 1e-20 · 1e-20 = 1e-40: below float32's smallest normal number (1.18e-38). */
    private static final float SMALL = 1e-20f;

    @BeforeAll
    static void x86Linux() {
        assumeTrue("amd64".equals(System.getProperty("os.arch")) && "Linux".equals(System.getProperty("os.name")));
    }

    /** libtorch's product of 16 pairs of 1e-20, computed on a new thread (small: runs on the calling thread). */
    private static float productOnNewThread(Callable<Boolean> setup, boolean[] setupResult) throws Exception {
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            return thread.submit(() -> {
                setupResult[0] = setup.call();
                try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                    NDArray y = m.full(new Shape(16), SMALL).mul(m.full(new Shape(16), SMALL));
                    float[] v = y.toFloatArray();
                    for (float f : v) assertEquals(v[0], f);
                    return v[0];
                }
            }).get();
        } finally {
            thread.shutdownNow();
        }
    }

    @Test
    void flushToZeroMakesDenormalResultsZeroOnItsThreadOnly() throws Exception {
        boolean[] set = new boolean[1];
        float kept = productOnNewThread(() -> false, set);
        assertTrue(kept > 0 && kept < Float.MIN_NORMAL, "without flush-to-zero 1e-20 · 1e-20 is a denormal, got " + kept);
        float flushed = productOnNewThread(Denormals::flushToZero, set);
        assertTrue(set[0], "flushToZero did not take effect (launched without jdk.incubator.foreign?)");
        assertEquals(0f, flushed);
        assertEquals(kept, productOnNewThread(() -> false, set), "another thread kept denormals");
    }

    @Test
    void keepPropertyLeavesDenormalsOn() throws Exception {
        String before = System.getProperty("edgegen.denormals");
        System.setProperty("edgegen.denormals", "keep");
        try {
            boolean[] set = new boolean[1];
            float y = productOnNewThread(Denormals::flushToZero, set);
            assertFalse(set[0]);
            assertTrue(y > 0 && y < Float.MIN_NORMAL, "got " + y);
        } finally {
            if (before == null) System.clearProperty("edgegen.denormals");
            else System.setProperty("edgegen.denormals", before);
        }
    }
}
