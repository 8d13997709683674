package dev.edgegen.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    @Test
    void batchesDoNotDependOnThreadsAndResumeFromAPosition() {
        Dataset ds = SyntheticScenes.source(SyntheticScenes.Split.TRAIN);
        try (DataLoader one = new DataLoader(ds, 4, 1, 9); DataLoader two = new DataLoader(ds, 4, 2, 9);
             DataLoader resumed = new DataLoader(ds, 4, 2, 9)) {
            Batch a0 = one.next(), a1 = one.next(), a2 = one.next();
            Batch b0 = two.next(), b1 = two.next();
            assertArrayEquals(a0.pixels(), b0.pixels());
            assertEquals(a1.captions(), b1.captions());
            resumed.seek(two.position());
            Batch c2 = resumed.next();
            assertArrayEquals(a2.pixels(), c2.pixels());
            assertEquals(a2.captions(), c2.captions());
            assertEquals(a2.scenes(), c2.scenes());
            assertEquals(12, resumed.position());
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray x = a0.images(m);
                assertEquals(new ai.djl.ndarray.types.Shape(4, 3, 64, 64), x.getShape());
                assertTrue(x.min().getFloat() >= -1f && x.max().getFloat() <= 1f);
            }
        }
    }

    @Test
    void loaderKeepsUpWithTwoThreads() {
        Dataset ds = SyntheticScenes.source(SyntheticScenes.Split.TRAIN);
        try (DataLoader loader = new DataLoader(ds, 32, 2, 1)) {
            loader.next();
            long t0 = System.nanoTime();
            for (int i = 0; i < 10; i++) loader.next();
            double perSample = (System.nanoTime() - t0) / 1e6 / 320;
            assertTrue(perSample < 5, "ms per sample: " + perSample);
        }
    }

    @Test
    void mixtureDrawsFromEachSourceInProportion() {
        Dataset a = (p, r) -> new Sample(new float[3], "a", null);
        Dataset b = (p, r) -> new Sample(new float[3], "b", null);
        Mixture mix = new Mixture(List.of(a, b), new double[] {3, 1});
        int as = 0;
        for (int k = 0; k < 4000; k++) if (mix.get(k, DataLoader.sampleRandom(5, k)).caption().equals("a")) as++;
        assertEquals(3000, as, 120);
    }
}
