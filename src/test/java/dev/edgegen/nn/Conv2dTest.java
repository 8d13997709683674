package dev.edgegen.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.edgegen.tensor.Randn;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Conv2dTest {
    /**
     * Output, weight, bias and input gradients of a training-mode convolution against the same convolution in float64,
     * which libtorch computes without oneDNN. Output counts that are not a multiple of 16 (3: an autoencoder's RGB
     * output, 8: a UNet's latent output) are the ones whose input gradient came out NaN at random on an AMD Zen 5 CPU
     * before {@link Conv2d#forward} widened them; several repeats, since the failure depended on uninitialised memory.
     */
    @ParameterizedTest(name = "in={0} out={1} k={2} stride={3}")
    @CsvSource({"32, 3, 3, 1", "64, 8, 3, 1", "16, 5, 1, 1", "32, 3, 3, 2", "16, 16, 3, 1"})
    void trainingGradientsMatchAFloat64Reference(int in, int out, int k, int stride) {
        Random rng = new Random(in * 31L + out);
        for (int repeat = 0; repeat < 8; repeat++) {
            try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                Conv2d conv = new Conv2d(in, out, k, stride, k / 2);
                conv.initializeFanIn(m, 7 + repeat);
                conv.bias.set(Randn.randn(m, new Shape(out), rng).mul(0.1f));
                NDArray x = Randn.randn(m, new Shape(4, in, 32, 32), rng);                  // (B, in, H, W)
                NDArray x64 = x.toType(DataType.FLOAT64, true);
                NDArray w64 = conv.weight.get().toType(DataType.FLOAT64, true);
                NDArray b64 = conv.bias.get().toType(DataType.FLOAT64, true);
                NDArray[] fast = {x, conv.weight.get(), conv.bias.get()};
                NDArray[] ref = {x64, w64, b64};
                for (NDArray a : fast) a.setRequiresGradient(true);
                for (NDArray a : ref) a.setRequiresGradient(true);
                NDArray y;
                NDArray y64;
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    y = conv.forward(x);                                                     // (B, out, H', W')
                    y64 = ai.djl.nn.convolutional.Conv2d.conv2d(x64, w64, b64, new Shape(stride, stride),
                            new Shape(k / 2, k / 2), new Shape(1, 1), 1).singletonOrThrow();
                    NDArray r = Randn.randn(m, y.getShape(), rng);
                    gc.backward(y.mul(r).sum());
                    gc.backward(y64.mul(r.toType(DataType.FLOAT64, true)).sum());
                }
                assertEquals(y64.getShape(), y.getShape());
                assertClose("output", y, y64);
                String[] names = {"input", "weight", "bias"};
                for (int i = 0; i < 3; i++) assertClose(names[i] + " gradient (repeat " + repeat + ")", fast[i].getGradient(), ref[i].getGradient());
            }
        }
    }

    private static void assertClose(String what, NDArray got, NDArray want) {
        double scale = want.abs().max().toType(DataType.FLOAT64, false).getDouble();
        double err = got.toType(DataType.FLOAT64, false).sub(want).abs().max().getDouble();
        assertTrue(scale > 1e-3, what + " is ~0: the test would not see an error");
        assertTrue(err <= 1e-4 * Math.max(1, scale), what + ": max abs error " + err + " (scale " + scale + ")");
    }
}
