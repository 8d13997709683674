package dev.edgegen.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

class GroupNormOpTest {
    /** Inputs with a per-channel offset and scale, so the normalisation has something to remove. */
    private static NDArray input(NDManager m, Random rng, long... shape) {
        NDArray x = Randn.randn(m, new Shape(shape), rng);
        long c = shape[1];
        float[] off = new float[(int) c], scale = new float[(int) c];
        for (int i = 0; i < c; i++) { off[i] = 3f * (float) rng.nextGaussian(); scale[i] = 0.5f + 2f * rng.nextFloat(); }
        long[] bc = new long[shape.length];
        java.util.Arrays.fill(bc, 1);
        bc[1] = c;
        return x.mul(m.create(scale, new Shape(bc))).add(m.create(off, new Shape(bc)));
    }

    private static NDArray affine(NDManager m, Random rng, long c, float base) {
        return Randn.randn(m, new Shape(c), rng).mul(0.5f).add(base);
    }

    @ParameterizedTest(name = "{0} groups={1} eps={2} silu={3}")
    @CsvSource({
        "2:64:16:16, 8, 1e-5, true",
        "2:64:16:16, 8, 1e-6, false",
        "3:128:4:4, 32, 1e-5, true",
        "1:32:64:64, 8, 1.0, true",
        "2:12:7, 3, 1e-5, false",       // (B, C, L)
        "2:8:3:5:4, 4, 1e-5, true",     // (B, C, D, H, W)
    })
    void forwardAndGradientsMatchTheReference(String dims, int groups, float eps, boolean silu) {
        long[] shape = java.util.Arrays.stream(dims.split(":")).mapToLong(Long::parseLong).toArray();
        Random rng = new Random(dims.hashCode() + groups);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray x = input(m, rng, shape);
            NDArray gamma = affine(m, rng, shape[1], 1f);
            NDArray beta = affine(m, rng, shape[1], 0f);
            NDArray w = Randn.randn(m, new Shape(shape), rng);    // a loss that weights every output differently
            NDArray[] fast = {x.duplicate(), gamma.duplicate(), beta.duplicate()};
            NDArray[] ref = {x.duplicate(), gamma.duplicate(), beta.duplicate()};
            for (NDArray a : fast) a.setRequiresGradient(true);
            for (NDArray a : ref) a.setRequiresGradient(true);
            NDArray yFast;
            NDArray yRef;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                yFast = GroupNormOp.forward(fast[0], groups, fast[1], fast[2], eps, silu);
                yRef = GroupNormOp.reference(ref[0], groups, ref[1], ref[2], eps, silu);
                gc.backward(yFast.mul(w).sum());
                gc.backward(yRef.mul(w).sum());
            }
            assertEquals(x.getShape(), yFast.getShape());
            float err = yFast.sub(yRef).abs().max().getFloat();
            assertTrue(err < 1e-4f, "forward: max abs error " + err);
            // the normalisation removed the offsets: outputs are O(1) although inputs were offset by up to ~10
            assertTrue(yRef.abs().max().getFloat() < 8f * 2.5f);
            String[] names = {"x", "gamma", "beta"};
            for (int i = 0; i < 3; i++) {
                NDArray g = fast[i].getGradient();
                NDArray gRef = ref[i].getGradient();
                float scale = gRef.abs().max().getFloat();
                float gErr = g.sub(gRef).abs().max().getFloat();
                assertTrue(scale > 1e-3f, names[i] + " gradient is ~0: the test would not see an error");
                assertTrue(gErr < 1e-4f * Math.max(1f, scale), names[i] + " gradient: max abs error " + gErr + " (scale " + scale + ")");
            }
        }
    }

    @Test
    void matchesAPlainLoopOnAKnownCase() {
        // x (1, 4, 2): two groups of two channels; group 0 = {1, 2, 3, 4}, group 1 = {10, 10, 10, 14}
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray x = m.create(new float[] {1, 2, 3, 4, 10, 10, 10, 14}, new Shape(1, 4, 2));
            NDArray y = GroupNormOp.forward(x, 2, m.ones(new Shape(4)), m.zeros(new Shape(4)), 0f, false);
            float[] got = y.toFloatArray();
            double s0 = Math.sqrt(1.25);   // variance of {1, 2, 3, 4}
            double s1 = Math.sqrt(3.0);    // variance of {10, 10, 10, 14}: mean 11, (1 + 1 + 1 + 9) / 4
            double[] want = {-1.5 / s0, -0.5 / s0, 0.5 / s0, 1.5 / s0, -1 / s1, -1 / s1, -1 / s1, 3 / s1};
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5, "element " + i);
        }
    }

    @Test
    void outsideTrainingTheOutputIsAnOrdinaryTensorThatCanBeUpdatedInPlace() {
        // libtorch's inference mode would return "inference tensors", on which the in-place ops the models use
        // outside training (Ops.addInPlace) fail
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray y = GroupNormOp.forward(m.arange(8f).reshape(1, 4, 2), 2, m.ones(new Shape(4)), m.zeros(new Shape(4)), 1e-5f, true);
            NDArray before = y.duplicate();
            Ops.addInPlace(y, m.ones(new Shape(1, 4, 2)));
            assertEquals(8f, y.sub(before).sum().getFloat(), 1e-5f);
        }
    }

    @Test
    void rejectsChannelsNotDivisibleByGroupsAndWrongAffineSizes() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray x = m.zeros(new Shape(1, 6, 2, 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GroupNormOp.forward(x, 4, m.ones(new Shape(6)), m.zeros(new Shape(6)), 1e-5f, false));
            assertTrue(e.getMessage().contains("6 channels are not divisible by 4 groups"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> GroupNormOp.forward(x, 3, m.ones(new Shape(5)), m.zeros(new Shape(6)), 1e-5f, false));
            assertTrue(e.getMessage().contains("gamma (5)"), e.getMessage());
        }
    }
}
