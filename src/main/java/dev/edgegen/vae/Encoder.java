package dev.edgegen.vae;

import ai.djl.ndarray.NDArray;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.Downsample2D;
import dev.edgegen.nn.GroupNorm;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.ModuleList;
import dev.edgegen.nn.ResnetBlock2D;
import dev.edgegen.nn.Scope;
import java.util.List;

/**
 * diffusers' VAE Encoder: conv_in, down_blocks.{i}.resnets / downsamplers.0 (right/bottom padded,
 * stride 2), mid_block, conv_norm_out, conv_out to 2·latent channels (mean and log-variance).
 */
public final class Encoder extends Module {
    public final Conv2d convIn;
    public final ModuleList<Stage> downBlocks;
    public final VaeMidBlock midBlock;
    public final GroupNorm convNormOut;
    public final Conv2d convOut;

    public Encoder(VAEConfig c) {
        List<Integer> ch = c.blockOutChannels();
        int n = ch.size();
        convIn = register("conv_in", new Conv2d(c.inChannels(), ch.get(0), 3, 1, 1));
        downBlocks = register("down_blocks", new ModuleList<>());
        int out = ch.get(0);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            downBlocks.add(new Stage(in, out, c.layersPerBlock(), c.normNumGroups(), c.normEps(), i < n - 1));
        }
        midBlock = register("mid_block", new VaeMidBlock(ch.get(n - 1), c.normNumGroups(), c.normEps()));
        convNormOut = register("conv_norm_out", new GroupNorm(c.normNumGroups(), ch.get(n - 1), c.normEps()));
        convOut = register("conv_out", new Conv2d(ch.get(n - 1), 2 * c.latentChannels(), 3, 1, 1));
    }

    /** x: (B, in, H, W) → (B, 2·latent, H/f, W/f). */
    public NDArray forward(NDArray x) {
        return Scope.run(x, () -> {
            NDArray h = convIn.forward(x);
            for (Stage s : downBlocks.items()) {
                h = s.forward(h);
            }
            h = midBlock.forward(h);
            return convOut.forward(convNormOut.forwardSilu(h));
        });
    }

    /** FLOPs at an H×W input image. */
    public long flops(int batch, int height, int width) {
        long f = (long) batch * height * width * convIn.flopsPerOutputPixel();
        int h = height;
        int w = width;
        for (Stage s : downBlocks.items()) {
            for (ResnetBlock2D r : s.resnets.items()) f += r.flops(batch, h, w);
            if (s.downsamplers != null) {
                h = (h - 2) / 2 + 1;
                w = (w - 2) / 2 + 1;
                f += s.downsamplers.get(0).flops(batch, h, w);
            }
        }
        f += midBlock.flops(batch, h, w);
        return f + (long) batch * h * w * convOut.flopsPerOutputPixel();
    }

    /** DownEncoderBlock2D: resnets, then an optional downsampler. */
    public static final class Stage extends Module {
        public final ModuleList<ResnetBlock2D> resnets;
        public final ModuleList<Downsample2D> downsamplers;   // null for the last stage

        Stage(int in, int out, int layers, int groups, float eps, boolean downsample) {
            resnets = register("resnets", new ModuleList<>());
            for (int j = 0; j < layers; j++) {
                resnets.add(new ResnetBlock2D(j == 0 ? in : out, out, 0, groups, eps));
            }
            downsamplers = downsample ? register("downsamplers", new ModuleList<>()) : null;
            if (downsamplers != null) downsamplers.add(new Downsample2D(out, out, 0));
        }

        NDArray forward(NDArray x) {
            return Scope.run(x, () -> {
                NDArray h = x;
                for (ResnetBlock2D r : resnets.items()) h = r.forward(h, null);
                return downsamplers == null ? h : downsamplers.get(0).forward(h);
            });
        }
    }
}
