package dev.edgegen.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The resampling ops against plain loops. */
class OpsTest {
    @Test
    void areaDownsampleAveragesBlocks() {
        try (NDManager m = NDManager.newBaseManager()) {
            int b = 2, c = 3, h = 8, w = 12, f = 4;
            float[] x = new float[b * c * h * w];
            Random r = new Random(3);
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            float[] got = Ops.areaDownsample(m.create(x, new Shape(b, c, h, w)), f).toFloatArray();
            int k = 0;
            for (int bc = 0; bc < b * c; bc++) {
                for (int y = 0; y < h / f; y++) {
                    for (int xx = 0; xx < w / f; xx++) {
                        double sum = 0;
                        for (int dy = 0; dy < f; dy++) for (int dx = 0; dx < f; dx++) sum += x[(bc * h + y * f + dy) * w + xx * f + dx];
                        assertEquals(sum / (f * f), got[k++], 1e-5);
                    }
                }
            }
            assertEquals(got.length, k);
        }
    }

    @Test
    void highFrequencyShareMatchesItsDefinition() {
        try (NDManager m = NDManager.newBaseManager()) {
            int b = 2, c = 2, h = 6, w = 8;
            float[] x = new float[b * c * h * w];
            Random r = new Random(5);
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() + (i % w);
            double high = 0, total = 0;
            for (int bc = 0; bc < b * c; bc++) {
                double mean = 0;
                for (int i = 0; i < h * w; i++) mean += x[bc * h * w + i] / (h * w);
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        int y0 = y / 2 * 2, x0 = xx / 2 * 2, o = bc * h * w;
                        double low = (x[o + y0 * w + x0] + x[o + y0 * w + x0 + 1] + x[o + (y0 + 1) * w + x0] + x[o + (y0 + 1) * w + x0 + 1]) / 4;
                        double v = x[o + y * w + xx];
                        high += (v - low) * (v - low);
                        total += (v - mean) * (v - mean);
                    }
                }
            }
            assertEquals(high / total, Ops.highFrequencyShare(m.create(x, new Shape(b, c, h, w))), 1e-5);
            float[] blocks = new float[h * w];
            for (int y = 0; y < h; y++) for (int xx = 0; xx < w; xx++) blocks[y * w + xx] = (y / 2) * 10 + xx / 2;
            assertEquals(0, Ops.highFrequencyShare(m.create(blocks, new Shape(1, 1, h, w))), 1e-7, "2x2-constant maps have none");
            float[] noise = new float[64 * 64];
            for (int i = 0; i < noise.length; i++) noise[i] = (float) r.nextGaussian();
            assertEquals(0.75, Ops.highFrequencyShare(m.create(noise, new Shape(1, 1, 64, 64))), 0.03, "white noise: 3/4 of its energy");
        }
    }
}
