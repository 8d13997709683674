package dev.edgegen.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    @Test
    void looksUpRowsForIntAndLongIds() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Embedding e = new Embedding(5, 3);
            e.initialize(manager, 1f, 42);
            float[] w = e.weight.get().toFloatArray();
            int[] ids = {4, 0, 2, 2, 1, 3};
            float[] want = new float[ids.length * 3];
            for (int i = 0; i < ids.length; i++) {
                System.arraycopy(w, ids[i] * 3, want, i * 3, 3);
            }
            NDArray out = e.forward(manager.create(ids, new Shape(2, 3)));
            assertEquals(new Shape(2, 3, 3), out.getShape());
            assertArrayEquals(want, out.toFloatArray());
            long[] longIds = {4, 0, 2, 2, 1, 3};
            assertArrayEquals(want, e.forward(manager.create(longIds, new Shape(6))).toFloatArray());
        }
    }
}
