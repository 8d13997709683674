package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.GroupNorm;
import dev.edgegen.nn.LayerNorm;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Parameter;
import dev.edgegen.tensor.Attention;
import dev.edgegen.tensor.Ops;
import dev.edgegen.tensor.Randn;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The engine's layers and ops are trainable: autograd gradients match central finite differences. */
class AutogradLayersTest {
    static final class Block extends Module {
        final Conv2d conv = register("conv", new Conv2d(4, 8, 3, 1, 1));
        final GroupNorm norm = register("norm", new GroupNorm(2, 8, 1e-5f));
        final Linear proj = register("proj", new Linear(8, 8, true));
        final LayerNorm ln = register("ln", new LayerNorm(8, 1e-5f));

        NDArray forward(NDArray x) { // (B, 4, 4, 4) → scalar
            NDArray h = Ops.silu(norm.forward(conv.forward(x)));              // (B, 8, 4, 4)
            NDArray seq = h.reshape(2, 8, 16).transpose(0, 2, 1);             // (B, 16, 8)
            NDArray q = proj.forward(ln.forward(seq));
            NDArray a = Attention.forward(q, seq, seq, 2, false);             // (B, 16, 8)
            return Ops.gelu(a).add(Ops.quickGelu(seq)).square().mean();
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Block block = new Block();
            block.initialize(manager, 0.3f, 3);
            for (Parameter p : block.parameters().values()) {
                NDArray noisy = p.get().add(Randn.randn(manager, p.shape(), new Random(p.shape().size())).mul(0.1f));
                p.set(noisy);
            }
            NDArray x = Randn.randn(manager, new Shape(2, 4, 4, 4), new Random(5));
            Function<Void, Double> eval = v -> {
                try (NDManager s = manager.newSubManager()) {
                    NDArray xi = x.duplicate();
                    xi.attach(s);
                    return (double) block.forward(xi).getFloat();
                }
            };
            for (Parameter p : block.parameters().values()) p.get().setRequiresGradient(true);
            try (NDManager s = manager.newSubManager()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray xi = x.duplicate();
                    xi.attach(s);
                    gc.backward(block.forward(xi));
                }
                for (var e : block.parameters().entrySet()) {
                    NDArray w = e.getValue().get();
                    NDArray g = w.getGradient();
                    g.attach(s);
                    float analytic = g.toFloatArray()[1];
                    float[] values = w.toFloatArray();
                    float orig = values[1];
                    double h = 1e-2;
                    values[1] = (float) (orig + h);
                    w.set(values);
                    double plus = eval.apply(null);
                    values[1] = (float) (orig - h);
                    w.set(values);
                    double minus = eval.apply(null);
                    values[1] = orig;
                    w.set(values);
                    double numeric = (plus - minus) / (2 * h);
                    assertEquals(numeric, analytic, 2e-3 + 2e-2 * Math.abs(numeric), e.getKey());
                }
            }
            for (Parameter p : block.parameters().values()) p.get().setRequiresGradient(false);
        }
    }

    @Test
    void theReconstructionLossReachesTheEncoderThroughThePosteriorMean() throws Exception {
        var cfg = new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"in_channels\": 3, \"out_channels\": 3, "
                + "\"latent_channels\": 2, \"block_out_channels\": [8, 8], \"layers_per_block\": 1, \"norm_num_groups\": 2, \"sample_size\": 16}");
        try (NDManager manager = NDManager.newBaseManager()) {
            dev.edgegen.vae.AutoencoderKL vae = new dev.edgegen.vae.AutoencoderKL(dev.edgegen.vae.VAEConfig.fromJson(cfg, "test"));
            vae.initializeFanIn(manager, 1);
            for (Parameter p : vae.parameters().values()) p.get().setRequiresGradient(true);
            NDArray x = Randn.randn(manager, new Shape(2, 3, 16, 16), new Random(2));
            try (NDManager s = manager.newSubManager()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray xi = x.duplicate();
                    xi.attach(s);
                    gc.backward(vae.decode(vae.encode(xi).mean()).sub(xi).square().mean());
                }
                for (String name : new String[] {"encoder.conv_in.weight", "encoder.conv_in.bias", "quant_conv.weight", "post_quant_conv.weight"}) {
                    float g = vae.parameters().get(name).get().getGradient().abs().sum().getFloat();
                    org.junit.jupiter.api.Assertions.assertTrue(g > 0, name + " gets no gradient from the reconstruction");
                }
            }
        }
    }
}
