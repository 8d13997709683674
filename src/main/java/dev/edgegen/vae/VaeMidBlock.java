package dev.edgegen.vae;

import ai.djl.ndarray.NDArray;
import dev.edgegen.nn.AttentionBlock;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.ModuleList;
import dev.edgegen.nn.ResnetBlock2D;
import dev.edgegen.nn.Scope;

/** diffusers' UNetMidBlock2D as the VAE uses it: resnets.0, attentions.0 (one head), resnets.1; no time embedding. */
public final class VaeMidBlock extends Module {
    public final ModuleList<AttentionBlock> attentions;
    public final ModuleList<ResnetBlock2D> resnets;

    public VaeMidBlock(int channels, int groups, float eps) {
        attentions = register("attentions", new ModuleList<>());
        resnets = register("resnets", new ModuleList<>());
        resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps));
        attentions.add(new AttentionBlock(channels, groups, eps));
        resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps));
    }

    /** x: (B, C, H, W) → (B, C, H, W). */
    public NDArray forward(NDArray x) {
        return Scope.run(x, () -> {
            NDArray h = resnets.get(0).forward(x, null);
            h = attentions.get(0).forward(h);
            return resnets.get(1).forward(h, null);
        });
    }

    public long flops(int batch, int h, int w) {
        return resnets.get(0).flops(batch, h, w) + attentions.get(0).flops(batch, h, w) + resnets.get(1).flops(batch, h, w);
    }
}
