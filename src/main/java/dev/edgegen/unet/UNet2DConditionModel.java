package dev.edgegen.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.Downsample2D;
import dev.edgegen.nn.GroupNorm;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.ModuleList;
import dev.edgegen.nn.ResnetBlock2D;
import dev.edgegen.nn.TimestepEmbedding;
import dev.edgegen.nn.Transformer2DModel;
import dev.edgegen.nn.Upsample2D;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * diffusers' UNet2DConditionModel (Rombach et al. 2022, the Stable Diffusion denoiser) with its
 * checkpoint names: conv_in, time_embedding, down_blocks.{i}.{resnets,attentions,downsamplers},
 * mid_block, up_blocks.{i}.{resnets,attentions,upsamplers}, conv_norm_out, conv_out.
 *
 * <p>Blocks listed in {@link #setSkipped} are bypassed (SnapFusion-style block skipping): a skipped
 * attention is the identity, a skipped resnet keeps only its shortcut (identity, or conv_shortcut
 * when its channel count changes).
 */
public final class UNet2DConditionModel extends Module {
    public final UNetConfig config;
    public final Conv2d convIn;
    public final TimestepEmbedding timeEmbedding;
    public final ModuleList<DownBlock> downBlocks;
    public final ModuleList<UpBlock> upBlocks;
    public final MidBlock midBlock;   // null when mid_block_type is null
    public final GroupNorm convNormOut;
    public final Conv2d convOut;
    private Set<String> skipped = Set.of();

    public UNet2DConditionModel(UNetConfig config) {
        this.config = config;
        int n = config.stages();
        List<Integer> ch = config.blockOutChannels();
        int groups = config.normNumGroups();
        float eps = config.normEps();
        int temb = config.timeEmbedDim();
        int ctx = config.crossAttentionDim();
        boolean lin = config.useLinearProjection();

        convIn = register("conv_in", new Conv2d(config.inChannels(), ch.get(0), 3, 1, 1));
        timeEmbedding = register("time_embedding",
                new TimestepEmbedding(ch.get(0), temb, config.flipSinToCos(), config.freqShift()));

        downBlocks = register("down_blocks", new ModuleList<>());
        int out = ch.get(0);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            boolean attn = config.downBlockTypes().get(i).equals(UNetConfig.CROSS_ATTN_DOWN);
            downBlocks.add(new DownBlock(in, out, config.layersPerBlock().get(i), temb, groups, eps,
                    attn ? config.attentionHeads().get(i) : 0, config.transformerLayersPerBlock().get(i), ctx, lin, i < n - 1));
        }

        upBlocks = register("up_blocks", new ModuleList<>());
        int prevOut = ch.get(n - 1);
        for (int i = 0; i < n; i++) {
            int stage = n - 1 - i;                     // matching down stage
            int upOut = ch.get(stage);
            int skipIn = ch.get(Math.max(stage - 1, 0)); // channels of the skip taken by the last resnet
            boolean attn = config.upBlockTypes().get(i).equals(UNetConfig.CROSS_ATTN_UP);
            upBlocks.add(new UpBlock(prevOut, upOut, skipIn, config.layersPerBlock().get(stage) + 1, temb, groups, eps,
                    attn ? config.attentionHeads().get(stage) : 0, config.transformerLayersPerBlock().get(stage), ctx, lin, i < n - 1));
            prevOut = upOut;
        }

        midBlock = config.midBlockType() == null ? null
                : register("mid_block", new MidBlock(ch.get(n - 1), temb, groups, eps,
                        config.attentionHeads().get(n - 1), config.transformerLayersPerBlock().get(n - 1), ctx, lin));
        convNormOut = register("conv_norm_out", new GroupNorm(groups, ch.get(0), eps));
        convOut = register("conv_out", new Conv2d(ch.get(0), config.outChannels(), 3, 1, 1));
    }

    /** Paths of all resnet and attention blocks that {@link #setSkipped} accepts, in forward order. */
    public List<String> blockPaths() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < downBlocks.size(); i++) {
            DownBlock d = downBlocks.get(i);
            for (int j = 0; j < d.resnets.size(); j++) {
                out.add("down_blocks." + i + ".resnets." + j);
                if (d.attentions != null) out.add("down_blocks." + i + ".attentions." + j);
            }
        }
        if (midBlock != null) {
            out.add("mid_block.resnets.0");
            out.add("mid_block.attentions.0");
            out.add("mid_block.resnets.1");
        }
        for (int i = 0; i < upBlocks.size(); i++) {
            UpBlock u = upBlocks.get(i);
            for (int j = 0; j < u.resnets.size(); j++) {
                out.add("up_blocks." + i + ".resnets." + j);
                if (u.attentions != null) out.add("up_blocks." + i + ".attentions." + j);
            }
        }
        return out;
    }

    /** Blocks to bypass from now on (paths from {@link #blockPaths}); an empty set runs the full network. */
    public void setSkipped(Set<String> paths) {
        Set<String> known = new LinkedHashSet<>(blockPaths());
        for (String p : paths) {
            if (!known.contains(p)) {
                throw new IllegalArgumentException("unknown UNet block '" + p + "'; skippable blocks look like "
                        + "down_blocks.0.attentions.1 or up_blocks.2.resnets.0 (see blockPaths())");
            }
        }
        skipped = Set.copyOf(paths);
    }

    public Set<String> skipped() { return skipped; }

    /**
     * One denoiser evaluation. sample: (B, in, h, w) with h, w multiples of {@link UNetConfig#sizeMultiple};
     * timesteps: (B) or (1) float32; context: (B, L, crossAttentionDim) → (B, out, h, w), in sample's manager.
     */
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray context) {
        return forward(sample, timesteps, context, null);
    }

    /** {@link #forward(NDArray, NDArray, NDArray)} reporting each block's wall time to timer (null: none). */
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray context, BlockTimer timer) {
        long b = validate(sample, timesteps, context);
        NDManager parent = sample.getManager();
        try (NDManager sub = parent.newSubManager()) {
            sample.tempAttach(sub);
            if (timesteps != sample) timesteps.tempAttach(sub);
            if (context != sample && context != timesteps) context.tempAttach(sub);
            NDArray t = timesteps.getShape().size() == b ? timesteps.reshape(b) : timesteps.reshape(1).repeat(0, b);
            NDArray temb = timed("time_embedding", timer, () -> timeEmbedding.forward(t));   // (B, T)

            // arrays still needed (the input, skip connections), counted: skipped blocks can push one array twice
            Map<NDArray, Integer> keep = new IdentityHashMap<>();
            keep.put(sample, 1);
            Deque<NDArray> skips = new ArrayDeque<>();
            NDArray h = timed("conv_in", timer, () -> convIn.forward(sample));              // (B, C0, h, w)
            skips.push(h);
            keep.merge(h, 1, Integer::sum);
            for (int i = 0; i < downBlocks.size(); i++) {
                DownBlock d = downBlocks.get(i);
                String base = "down_blocks." + i;
                for (int j = 0; j < d.resnets.size(); j++) {
                    h = replace(h, resnet(base + ".resnets." + j, d.resnets.get(j), h, temb, timer), keep);
                    if (d.attentions != null) {
                        h = replace(h, attention(base + ".attentions." + j, d.attentions.get(j), h, context, timer), keep);
                    }
                    skips.push(h);
                    keep.merge(h, 1, Integer::sum);
                }
                if (d.downsamplers != null) {
                    NDArray in = h;
                    h = timed(base + ".downsamplers.0", timer, () -> d.downsamplers.get(0).forward(in));
                    skips.push(h);
                    keep.merge(h, 1, Integer::sum);
                }
            }
            if (midBlock != null) {
                h = replace(h, resnet("mid_block.resnets.0", midBlock.resnets.get(0), h, temb, timer), keep);
                h = replace(h, attention("mid_block.attentions.0", midBlock.attentions.get(0), h, context, timer), keep);
                h = replace(h, resnet("mid_block.resnets.1", midBlock.resnets.get(1), h, temb, timer), keep);
            }
            for (int i = 0; i < upBlocks.size(); i++) {
                UpBlock u = upBlocks.get(i);
                String base = "up_blocks." + i;
                for (int j = 0; j < u.resnets.size(); j++) {
                    NDArray s = skips.pop();
                    keep.computeIfPresent(s, (k, c) -> c == 1 ? null : c - 1);
                    long t0 = System.nanoTime();
                    NDArray cat = h.concat(s, 1);                             // (B, C + Cskip, h, w)
                    if (s != h && !keep.containsKey(s)) s.close();
                    h = replace(h, cat, keep);
                    long concatNanos = System.nanoTime() - t0;
                    BlockTimer withConcat = timer == null ? null : (p, ns) -> timer.record(p, ns + concatNanos);
                    h = replace(h, resnet(base + ".resnets." + j, u.resnets.get(j), h, temb, withConcat), keep);
                    if (u.attentions != null) {
                        h = replace(h, attention(base + ".attentions." + j, u.attentions.get(j), h, context, timer), keep);
                    }
                }
                if (u.upsamplers != null) {
                    NDArray in = h;
                    h = replace(h, timed(base + ".upsamplers.0", timer, () -> u.upsamplers.get(0).forward(in)), keep);
                }
            }
            NDArray last = h;
            NDArray y = timed("conv_out", timer, () -> convOut.forward(convNormOut.forwardSilu(last)));   // (B, out, h, w)
            y.attach(parent);
            return y;
        }
    }

    private static NDArray replace(NDArray old, NDArray next, Map<NDArray, Integer> keep) {
        if (next != old && !keep.containsKey(old)) old.close();
        return next;
    }

    private NDArray resnet(String path, ResnetBlock2D r, NDArray h, NDArray temb, BlockTimer timer) {
        return timed(path, timer, () -> skipped.contains(path) ? r.shortcut(h) : r.forward(h, temb));
    }

    private NDArray attention(String path, Transformer2DModel a, NDArray h, NDArray context, BlockTimer timer) {
        return timed(path, timer, () -> skipped.contains(path) ? h : a.forward(h, context));
    }

    private static NDArray timed(String path, BlockTimer timer, java.util.function.Supplier<NDArray> body) {
        if (timer == null) return body.get();
        long t0 = System.nanoTime();
        NDArray y = body.get();
        timer.record(path, System.nanoTime() - t0);
        return y;
    }

    private long validate(NDArray sample, NDArray timesteps, NDArray context) {
        var s = sample.getShape();
        if (s.dimension() != 4 || s.get(1) != config.inChannels()) {
            throw new IllegalArgumentException("UNet sample must be (B, " + config.inChannels() + ", h, w), got " + s);
        }
        int m = config.sizeMultiple();
        if (s.get(2) % m != 0 || s.get(3) % m != 0) {
            throw new IllegalArgumentException("latent size " + s.get(2) + "x" + s.get(3) + " must be a multiple of " + m
                    + " (image size a multiple of " + 8 * m + ")");
        }
        long b = s.get(0);
        long tn = timesteps.getShape().size();
        if (tn != b && tn != 1) {
            throw new IllegalArgumentException("timesteps must hold 1 or B = " + b + " values, got shape " + timesteps.getShape());
        }
        var c = context.getShape();
        if (c.dimension() != 3 || c.get(0) != b || c.get(2) != config.crossAttentionDim()) {
            throw new IllegalArgumentException("context must be (B = " + b + ", L, " + config.crossAttentionDim()
                    + ") (text encoder hidden states), got " + c);
        }
        return b;
    }

    /** Analytic FLOPs (2·MACs of convolutions, linears and attention matmuls) of one forward. */
    public long flops(int batch, int latentH, int latentW, int contextLen) {
        long f = 0;
        for (BlockCost c : blockCosts(batch, latentH, latentW, contextLen)) f += c.flops();
        return f;
    }

    /**
     * Per-block costs of one forward in execution order (norms and activations are not counted);
     * skipped blocks count what still runs (nothing, or the shortcut convolution).
     */
    public List<BlockCost> blockCosts(int batch, int latentH, int latentW, int contextLen) {
        List<BlockCost> out = new ArrayList<>();
        out.add(new BlockCost("time_embedding", timeEmbedding.flops(batch), timeEmbedding.parameterCount()));
        out.add(new BlockCost("conv_in", (long) batch * latentH * latentW * convIn.flopsPerOutputPixel(), convIn.parameterCount()));
        int h = latentH;
        int w = latentW;
        for (int i = 0; i < downBlocks.size(); i++) {
            DownBlock d = downBlocks.get(i);
            String base = "down_blocks." + i;
            for (int j = 0; j < d.resnets.size(); j++) {
                out.add(resnetCost(base + ".resnets." + j, d.resnets.get(j), batch, h, w));
                if (d.attentions != null) out.add(attentionCost(base + ".attentions." + j, d.attentions.get(j), batch, h, w, contextLen));
            }
            if (d.downsamplers != null) {
                h = (h + 1) / 2;
                w = (w + 1) / 2;
                Downsample2D ds = d.downsamplers.get(0);
                out.add(new BlockCost(base + ".downsamplers.0", ds.flops(batch, h, w), ds.parameterCount()));
            }
        }
        if (midBlock != null) {
            out.add(resnetCost("mid_block.resnets.0", midBlock.resnets.get(0), batch, h, w));
            out.add(attentionCost("mid_block.attentions.0", midBlock.attentions.get(0), batch, h, w, contextLen));
            out.add(resnetCost("mid_block.resnets.1", midBlock.resnets.get(1), batch, h, w));
        }
        for (int i = 0; i < upBlocks.size(); i++) {
            UpBlock u = upBlocks.get(i);
            String base = "up_blocks." + i;
            for (int j = 0; j < u.resnets.size(); j++) {
                out.add(resnetCost(base + ".resnets." + j, u.resnets.get(j), batch, h, w));
                if (u.attentions != null) out.add(attentionCost(base + ".attentions." + j, u.attentions.get(j), batch, h, w, contextLen));
            }
            if (u.upsamplers != null) {
                h *= 2;
                w *= 2;
                Upsample2D us = u.upsamplers.get(0);
                out.add(new BlockCost(base + ".upsamplers.0", us.flops(batch, h, w), us.parameterCount()));
            }
        }
        out.add(new BlockCost("conv_out", (long) batch * h * w * convOut.flopsPerOutputPixel(),
                convOut.parameterCount() + convNormOut.parameterCount()));
        return out;
    }

    private BlockCost resnetCost(String path, ResnetBlock2D r, int batch, int h, int w) {
        long f = skipped.contains(path)
                ? (r.convShortcut == null ? 0 : (long) batch * h * w * r.convShortcut.flopsPerOutputPixel())
                : r.flops(batch, h, w);
        return new BlockCost(path, f, r.parameterCount());
    }

    private BlockCost attentionCost(String path, Transformer2DModel a, int batch, int h, int w, int ctxLen) {
        return new BlockCost(path, skipped.contains(path) ? 0 : a.flops(batch, h, w, ctxLen), a.parameterCount());
    }

    /** A down stage: resnets, optional cross-attention transformers, optional downsampler. */
    public static final class DownBlock extends Module {
        public final ModuleList<ResnetBlock2D> resnets;
        public final ModuleList<Transformer2DModel> attentions;   // null for DownBlock2D
        public final ModuleList<Downsample2D> downsamplers;       // null for the last stage

        DownBlock(int in, int out, int layers, int temb, int groups, float eps, int heads, int tLayers,
                  int ctx, boolean linear, boolean downsample) {
            resnets = register("resnets", new ModuleList<>());
            attentions = heads > 0 ? register("attentions", new ModuleList<>()) : null;
            for (int j = 0; j < layers; j++) {
                resnets.add(new ResnetBlock2D(j == 0 ? in : out, out, temb, groups, eps));
                if (attentions != null) attentions.add(new Transformer2DModel(out, heads, out / heads, tLayers, ctx, groups, linear));
            }
            downsamplers = downsample ? register("downsamplers", new ModuleList<>()) : null;
            if (downsamplers != null) downsamplers.add(new Downsample2D(out, out, 1));
        }
    }

    /** An up stage: resnets over [h, skip] concatenations, optional transformers, optional upsampler. */
    public static final class UpBlock extends Module {
        public final ModuleList<ResnetBlock2D> resnets;
        public final ModuleList<Transformer2DModel> attentions;   // null for UpBlock2D
        public final ModuleList<Upsample2D> upsamplers;           // null for the last stage

        UpBlock(int prevOut, int out, int skipIn, int layers, int temb, int groups, float eps, int heads, int tLayers,
                int ctx, boolean linear, boolean upsample) {
            resnets = register("resnets", new ModuleList<>());
            attentions = heads > 0 ? register("attentions", new ModuleList<>()) : null;
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? skipIn : out;
                int resIn = j == 0 ? prevOut : out;
                resnets.add(new ResnetBlock2D(resIn + skip, out, temb, groups, eps));
                if (attentions != null) attentions.add(new Transformer2DModel(out, heads, out / heads, tLayers, ctx, groups, linear));
            }
            upsamplers = upsample ? register("upsamplers", new ModuleList<>()) : null;
            if (upsamplers != null) upsamplers.add(new Upsample2D(out, out));
        }
    }

    /** UNetMidBlock2DCrossAttn: resnets.0, attentions.0, resnets.1. */
    public static final class MidBlock extends Module {
        public final ModuleList<ResnetBlock2D> resnets;
        public final ModuleList<Transformer2DModel> attentions;

        MidBlock(int ch, int temb, int groups, float eps, int heads, int tLayers, int ctx, boolean linear) {
            attentions = register("attentions", new ModuleList<>());
            resnets = register("resnets", new ModuleList<>());
            resnets.add(new ResnetBlock2D(ch, ch, temb, groups, eps));
            attentions.add(new Transformer2DModel(ch, heads, ch / heads, tLayers, ctx, groups, linear));
            resnets.add(new ResnetBlock2D(ch, ch, temb, groups, eps));
        }
    }
}
