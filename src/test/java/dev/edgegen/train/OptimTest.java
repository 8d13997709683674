package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimTest {
    @Test
    void adamWMatchesAPlainLoopReference() {
        float[] w0 = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f};
        float[] b0 = {0.1f, -0.2f};
        float[][] gw = {{0.1f, -0.3f, 0.5f, 1.0f, -2.0f, 0.01f}, {-0.2f, 0.4f, 0.0f, 0.3f, 1.0f, -0.5f}, {1f, 1f, -1f, 0.5f, 0.2f, 0.1f}};
        float[][] gb = {{0.3f, -0.1f}, {0.2f, 0.2f}, {-1f, 0.5f}};
        double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.1;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(w0, new Shape(2, 3));
            NDArray b = m.create(b0);
            AdamW adam = new AdamW(new AdamW.Hyper(b1, b2, eps, wd), m);
            double[] rw = toDouble(w0), rb = toDouble(b0);
            double[] mw = new double[6], vw = new double[6], mb = new double[2], vb = new double[2];
            for (int t = 1; t <= 3; t++) {
                Map<String, NDArray> params = new LinkedHashMap<>();
                params.put("w", w);
                params.put("b", b);
                Map<String, NDArray> grads = new LinkedHashMap<>();
                grads.put("w", m.create(gw[t - 1], new Shape(2, 3)));
                grads.put("b", m.create(gb[t - 1]));
                adam.step(params, grads, lr);
                reference(rw, mw, vw, gw[t - 1], t, lr, b1, b2, eps, wd);
                reference(rb, mb, vb, gb[t - 1], t, lr, b1, b2, eps, 0); // no decay on 1-D tensors
            }
            assertArrayEquals(toFloat(rw), w.toFloatArray(), 1e-6f);
            assertArrayEquals(toFloat(rb), b.toFloatArray(), 1e-6f);
            assertEquals(3, adam.stepCount());
            assertEquals(4, adam.state().size());
            adam.close();
        }
    }

    private static void reference(double[] p, double[] m, double[] v, float[] g, int t,
                                  double lr, double b1, double b2, double eps, double wd) {
        for (int i = 0; i < p.length; i++) {
            p[i] *= 1 - lr * wd;
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double mh = m[i] / (1 - Math.pow(b1, t));
            double vh = v[i] / (1 - Math.pow(b2, t));
            p[i] -= lr * mh / (Math.sqrt(vh) + eps);
        }
    }

    @Test
    void scheduleWarmsUpThenFollowsCosine() {
        LrSchedule s = new LrSchedule(1e-3, 10, 110, 0.1);
        assertEquals(1e-4, s.at(0), 1e-12);
        assertEquals(1e-3, s.at(9), 1e-12);
        assertEquals(1e-3, s.at(10), 1e-12);
        assertEquals(1e-3 * (0.1 + 0.9 * 0.5), s.at(60), 1e-12);
        assertEquals(1e-4, s.at(110), 1e-12);
        assertEquals(1e-4, s.at(500), 1e-12);
    }

    @Test
    void clipScalesToTheGlobalNorm() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {3, 0});
            NDArray b = m.create(new float[] {0, 4});
            double norm = GradClip.clip(List.of(a, b), 1.0);
            assertEquals(5.0, norm, 1e-6);
            assertEquals(1.0, GradClip.globalNorm(List.of(a, b)), 1e-5);
            assertArrayEquals(new float[] {0.6f, 0}, a.toFloatArray(), 1e-5f);
            assertEquals(1.0, GradClip.clip(List.of(a, b), 2.0), 1e-5); // under the limit: unchanged
            assertArrayEquals(new float[] {0, 0.8f}, b.toFloatArray(), 1e-5f);
            // 3e20² overflows float32; the norm is summed in float64 and stays finite
            NDArray big = m.create(new float[] {3e20f, 4e20f});
            assertEquals(5e20, GradClip.globalNorm(List.of(big)), 1e15);
            assertTrue(GradClip.largest(java.util.Map.of("a", a, "big", big)).startsWith("big"));
        }
    }

    static final class Wide extends Module {
        final Linear l = register("l", new Linear(512, 64, true));
        final dev.edgegen.nn.Conv2d c = register("c", new dev.edgegen.nn.Conv2d(32, 16, 3, 1, 1));
    }

    @Test
    void fanInInitialisationGivesUnitVarianceOutputs() {
        try (NDManager m = NDManager.newBaseManager()) {
            Wide w = new Wide();
            w.initializeFanIn(m, 3);
            // weights ~ N(0, 1/fan_in): a unit-variance input gives unit-variance outputs whatever the width
            double v = w.l.weight.get().square().mean().getFloat() * 512;
            assertEquals(1.0, v, 0.05);
            assertEquals(1.0, w.c.weight.get().square().mean().getFloat() * 32 * 9, 0.1);   // 4608 samples: ±0.021 per σ
            assertEquals(0f, w.l.bias.get().abs().max().getFloat(), "biases start at zero");
            Wide again = new Wide();
            again.initializeFanIn(m, 3);
            assertArrayEquals(w.l.weight.get().toFloatArray(), again.l.weight.get().toFloatArray(), "deterministic per seed");
        }
    }

    static final class One extends Module {
        final Linear l = register("l", new Linear(2, 1, false));
    }

    @Test
    void emaFollowsTheWarmedUpDecay() {
        try (NDManager m = NDManager.newBaseManager()) {
            One model = new One();
            model.initialize(m, 1f, 1);
            Map<String, Parameter> params = model.parameters();
            Ema ema = new Ema(0.99, m);
            params.get("l.weight").set(m.create(new float[] {1, 2}, new Shape(1, 2)));
            ema.update(params, 0);
            params.get("l.weight").set(m.create(new float[] {3, 6}, new Shape(1, 2)));
            ema.update(params, 1);
            double d = Math.min(0.99, 2.0 / 11.0);
            assertArrayEquals(new float[] {(float) (d * 1 + (1 - d) * 3), (float) (d * 2 + (1 - d) * 6)},
                    ema.weights().get("l.weight").toFloatArray(), 1e-6f);
            ema.copyTo(params);
            assertArrayEquals(ema.weights().get("l.weight").toFloatArray(), params.get("l.weight").get().toFloatArray(), 0f);
            ema.close();
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }
}
