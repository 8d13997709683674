package dev.edgegen.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class AutocastTest {
    /**
     * Runs {@code layer} on x in float32 and in a bfloat16 scope, with gradients, and checks: float32 out; the
     * bfloat16 result is within bfloat16's precision of the float32 one but not equal to it (so the bfloat16 kernel
     * ran); the gradients of x and of every parameter agree within the same tolerance.
     */
    private static void checkAgainstFloat32(Module layer, NDArray x, Function<NDArray, NDArray> forward) {
        NDManager m = x.getManager();
        Map<String, dev.edgegen.nn.Parameter> params = layer.parameters();
        NDArray[] out = new NDArray[2];
        NDArray[] gx = new NDArray[2];
        NDArray[][] gp = new NDArray[2][];
        for (int run = 0; run < 2; run++) {
            NDArray xi = x.duplicate();
            xi.setRequiresGradient(true);
            for (var p : params.values()) p.get().setRequiresGradient(true);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                if (run == 0) {
                    out[0] = forward.apply(xi);
                } else {
                    try (Autocast.Scope s = Autocast.Precision.BFLOAT16.scope()) {
                        out[1] = forward.apply(xi);
                    }
                }
                // positive weights: sums of output gradients (the bias gradient) do not cancel below bfloat16's resolution
                NDArray w = m.arange((float) out[run].getShape().size()).reshape(out[run].getShape()).sin().mul(0.5f).add(1f);
                gc.backward(out[run].mul(w).sum());
            }
            gx[run] = xi.getGradient().duplicate();
            gp[run] = params.values().stream().map(p -> p.get().getGradient().duplicate()).toArray(NDArray[]::new);
            for (var p : params.values()) JniUtils.zeroGrad((PtNDArray) p.get());   // gradients accumulate otherwise
        }
        assertEquals(DataType.FLOAT32, out[1].getDataType());
        assertEquals(out[0].getShape(), out[1].getShape());
        assertClose("output", out[0], out[1]);
        assertClose("input gradient", gx[0], gx[1]);
        for (int i = 0; i < gp[0].length; i++) assertClose("parameter gradient " + i, gp[0][i], gp[1][i]);
    }

    /** bfloat16 has 8 significant bits (relative step 2^-8 ≈ 0.004); sums of ~100 products land within ~1% of scale. */
    private static void assertClose(String what, NDArray want, NDArray got) {
        float scale = want.abs().max().getFloat();
        float err = got.sub(want).abs().max().getFloat();
        assertTrue(scale > 1e-3f, what + " is ~0: the comparison would not see an error");
        assertTrue(err < 0.03f * scale, what + ": max abs error " + err + " at scale " + scale);
        assertTrue(err > 1e-6f * scale, what + ": identical to float32, so the bfloat16 kernel did not run");
    }

    @Test
    void convolutionsRunInBfloat16WithinItsPrecisionForwardAndBackward() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            Random rng = new Random(1);
            Conv2d conv = new Conv2d(16, 24, 3, 1, 1);
            conv.initializeFanIn(m, 3);
            conv.bias.get().set(Randn.randn(m, new Shape(24), rng).toFloatArray());
            checkAgainstFloat32(conv, Randn.randn(m, new Shape(2, 16, 8, 8), rng), conv::forward);
            Conv2d strided = new Conv2d(16, 8, 3, 2, 1, 1, false);   // a downsampler without bias
            strided.initializeFanIn(m, 4);
            checkAgainstFloat32(strided, Randn.randn(m, new Shape(2, 16, 8, 8), rng), strided::forward);
        }
    }

    @Test
    void linearLayersRunInBfloat16WithinItsPrecisionForwardAndBackward() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            Random rng = new Random(2);
            Linear lin = new Linear(64, 48, true);
            lin.initializeFanIn(m, 5);
            lin.bias.get().set(Randn.randn(m, new Shape(48), rng).toFloatArray());
            checkAgainstFloat32(lin, Randn.randn(m, new Shape(3, 10, 64), rng), lin::forward);
            Linear noBias = new Linear(64, 32, false);
            noBias.initializeFanIn(m, 6);
            checkAgainstFloat32(noBias, Randn.randn(m, new Shape(20, 64), rng), noBias::forward);
        }
    }

    @Test
    void theScopeIsPerThreadAndRestoresThePreviousPrecision() throws Exception {
        assertFalse(Autocast.active());
        try (Autocast.Scope outer = Autocast.Precision.BFLOAT16.scope()) {
            assertTrue(Autocast.active());
            assertFalse(CompletableFuture.supplyAsync(Autocast::active).get(), "another thread is not affected");
            try (Autocast.Scope inner = Autocast.Precision.BFLOAT16.scope()) {
                assertTrue(Autocast.active());
            }
            assertTrue(Autocast.active(), "closing the inner scope keeps the outer one");
        }
        assertFalse(Autocast.active());
    }
}
