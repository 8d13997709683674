package dev.edgegen.vae;

import ai.djl.ndarray.NDArray;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.GroupNorm;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.ModuleList;
import dev.edgegen.nn.ResnetBlock2D;
import dev.edgegen.nn.Scope;
import dev.edgegen.nn.Upsample2D;
import java.util.List;

/**
 * diffusers' VAE Decoder: conv_in, mid_block, up_blocks.{i} (widths reversed, layers_per_block + 1
 * resnets, nearest-2× upsampler but in the last), conv_norm_out, conv_out.
 */
public final class Decoder extends Module {
    public final Conv2d convIn;
    public final ModuleList<Stage> upBlocks;
    public final VaeMidBlock midBlock;
    public final GroupNorm convNormOut;
    public final Conv2d convOut;

    public Decoder(VAEConfig c) {
        List<Integer> ch = c.blockOutChannels();
        int n = ch.size();
        convIn = register("conv_in", new Conv2d(c.latentChannels(), ch.get(n - 1), 3, 1, 1));
        upBlocks = register("up_blocks", new ModuleList<>());
        int out = ch.get(n - 1);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(n - 1 - i);
            upBlocks.add(new Stage(in, out, c.layersPerBlock() + 1, c.normNumGroups(), c.normEps(), i < n - 1));
        }
        midBlock = register("mid_block", new VaeMidBlock(ch.get(n - 1), c.normNumGroups(), c.normEps()));
        convNormOut = register("conv_norm_out", new GroupNorm(c.normNumGroups(), ch.get(0), c.normEps()));
        convOut = register("conv_out", new Conv2d(ch.get(0), c.outChannels(), 3, 1, 1));
    }

    /** z: (B, latent, h, w) (after post_quant_conv) → (B, out, h·f, w·f). */
    public NDArray forward(NDArray z) {
        return Scope.run(z, () -> {
            NDArray h = midBlock.forward(convIn.forward(z));
            for (Stage s : upBlocks.items()) {
                NDArray next = s.forward(h);
                h.close();
                h = next;
            }
            return convOut.forward(convNormOut.forwardSilu(h));
        });
    }

    /** FLOPs at an h×w latent. */
    public long flops(int batch, int latentH, int latentW) {
        int h = latentH;
        int w = latentW;
        long f = (long) batch * h * w * convIn.flopsPerOutputPixel() + midBlock.flops(batch, h, w);
        for (Stage s : upBlocks.items()) {
            for (ResnetBlock2D r : s.resnets.items()) f += r.flops(batch, h, w);
            if (s.upsamplers != null) {
                h *= 2;
                w *= 2;
                f += s.upsamplers.get(0).flops(batch, h, w);
            }
        }
        return f + (long) batch * h * w * convOut.flopsPerOutputPixel();
    }

    /** UpDecoderBlock2D: resnets, then an optional upsampler. */
    public static final class Stage extends Module {
        public final ModuleList<ResnetBlock2D> resnets;
        public final ModuleList<Upsample2D> upsamplers;   // null for the last stage

        Stage(int in, int out, int layers, int groups, float eps, boolean upsample) {
            resnets = register("resnets", new ModuleList<>());
            for (int j = 0; j < layers; j++) {
                resnets.add(new ResnetBlock2D(j == 0 ? in : out, out, 0, groups, eps));
            }
            upsamplers = upsample ? register("upsamplers", new ModuleList<>()) : null;
            if (upsamplers != null) upsamplers.add(new Upsample2D(out, out));
        }

        NDArray forward(NDArray x) {
            return Scope.run(x, () -> {
                NDArray h = x;
                for (ResnetBlock2D r : resnets.items()) {
                    NDArray next = r.forward(h, null);
                    if (h != x) h.close();
                    h = next;
                }
                if (upsamplers == null) return h;
                NDArray up = upsamplers.get(0).forward(h);
                h.close();
                return up;
            });
        }
    }
}
