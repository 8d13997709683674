package dev.edgegen.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvTranspose2dTest {
    @Test
    void matchesPlainScatterLoop() {
        for (int[] cfg : new int[][] {{4, 2, 1}, {3, 3, 0}}) {
            int k = cfg[0], s = cfg[1], p = cfg[2], ci = 3, co = 2, h = 4, w = 5;
            try (NDManager m = NDManager.newBaseManager()) {
                ConvTranspose2d conv = new ConvTranspose2d(ci, co, k, s, p);
                conv.initialize(m, 0.5f, 7);
                conv.bias.set(m.create(new float[] {0.25f, -0.5f}));
                SplittableRandom r = new SplittableRandom(3);
                float[] x = new float[ci * h * w];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                NDArray y = conv.forward(m.create(x, new Shape(1, ci, h, w)));
                int ho = (h - 1) * s - 2 * p + k, wo = (w - 1) * s - 2 * p + k;
                assertEquals(new Shape(1, co, ho, wo), y.getShape());
                float[] wt = conv.weight.get().toFloatArray();
                double[] ref = new double[co * ho * wo];
                for (int o = 0; o < co; o++) for (int i = 0; i < ho * wo; i++) ref[o * ho * wo + i] = o == 0 ? 0.25 : -0.5;
                for (int c = 0; c < ci; c++) for (int iy = 0; iy < h; iy++) for (int ix = 0; ix < w; ix++) {
                    for (int o = 0; o < co; o++) for (int ky = 0; ky < k; ky++) for (int kx = 0; kx < k; kx++) {
                        int oy = iy * s - p + ky, ox = ix * s - p + kx;
                        if (oy < 0 || ox < 0 || oy >= ho || ox >= wo) continue;
                        ref[(o * ho + oy) * wo + ox] += x[(c * h + iy) * w + ix] * wt[((c * co + o) * k + ky) * k + kx];
                    }
                }
                float[] got = y.toFloatArray();
                for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 1e-4, "k=" + k + " s=" + s + " at " + i);
            }
        }
    }
}
