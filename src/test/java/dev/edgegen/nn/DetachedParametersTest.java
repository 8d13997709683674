package dev.edgegen.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.edgegen.tensor.Randn;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.unet.UNetConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A forward pass under {@link DetachedParameters} computes the same output and trains only the other parameters, with
 * the same gradients as without it (this failed while the copies asked for no gradient: the UNet's {@code conv_out}
 * then computed its input gradient in a oneDNN pass that came out about twice too large).
 */
class DetachedParametersTest {
    /** Gradients of mean(out²) of a tiny UNet, by parameter path; {@code detach}: paths without "attn2." detached. */
    private static Map<String, float[]> gradients(UNet2DConditionModel unet, NDManager m, boolean detach, float[][] out) {
        NDArray x = Randn.randn(m, new Shape(2, 4, 8, 8), new Random(1));
        NDArray ctx = Randn.randn(m, new Shape(2, 5, 32), new Random(2));
        NDArray t = m.create(new float[] {100, 700});
        List<Parameter> frozen = new ArrayList<>();
        unet.parameters().forEach((k, p) -> { if (!k.contains("attn2.")) frozen.add(p); });
        Map<String, float[]> grads = new LinkedHashMap<>();
        try (NDManager s = m.newSubManager()) {
            unet.parameters().values().forEach(p -> p.get().setRequiresGradient(true));   // fresh, zero gradients
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y;
                if (detach) {
                    try (DetachedParameters d = DetachedParameters.of(frozen, s)) {
                        y = unet.forward(x, t, ctx);
                    }
                } else {
                    y = unet.forward(x, t, ctx);
                }
                out[0] = y.toFloatArray();
                gc.backward(y.square().mean());
            }
            unet.parameters().forEach((k, p) -> grads.put(k, p.get().getGradient().toFloatArray()));
        }
        return grads;
    }

    @Test
    void onlyTheParametersLeftAttachedGetGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(UNetConfig.tiny());
            unet.initializeFanIn(m, 3);
            float[][] plainOut = new float[1][], detachedOut = new float[1][];
            Map<String, float[]> detached = gradients(unet, m, true, detachedOut);   // first: gradients accumulate
            unet.parameters().values().forEach(p -> p.get().getGradient().subi(p.get().getGradient()));
            Map<String, float[]> plain = gradients(unet, m, false, plainOut);
            assertArrayEquals(plainOut[0], detachedOut[0], 0f, "the same values");
            int attn2 = 0;
            for (String k : plain.keySet()) {
                float[] g = detached.get(k);
                if (k.contains("attn2.")) {
                    attn2++;
                    assertArrayEquals(plain.get(k), g, 1e-6f * max(plain.get(k)) + 1e-12f, k);
                    assertTrue(k.endsWith("bias") || max(g) > 0, k + " gets a gradient");
                } else {
                    assertEquals(0f, max(g), 0f, k + " is detached");
                    assertTrue(max(plain.get(k)) > 0 || k.endsWith("bias"), k + " had a gradient without detaching");
                }
            }
            assertTrue(attn2 >= 8, "the tiny UNet's cross-attention: " + attn2 + " parameters");
            assertEquals(null, DetachedParameters.viewOf(unet.parameters().values().iterator().next()), "closed again");
        }
    }

    @Test
    void theyDoNotNest() {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear l = new Linear(2, 2, true);
            l.initialize(m, 0.5f, 1);
            List<Parameter> ps = List.copyOf(l.parameters().values());
            try (DetachedParameters d = DetachedParameters.of(ps, m)) {
                assertThrows(IllegalStateException.class, () -> DetachedParameters.of(ps, m));
            }
        }
    }

    private static float max(float[] g) {
        float a = 0;
        for (float v : g) a = Math.max(a, Math.abs(v));
        return a;
    }
}
