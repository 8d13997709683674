package dev.edgegen.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.nn.Parameter;
import dev.edgegen.tensor.Randn;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UNet2DConditionModelTest {

    @Test
    void sd15ParameterCountIsThePublishedOne() {
        // runwayml/stable-diffusion-v1-5 unet: 859,520,964 parameters
        assertEquals(859_520_964L, new UNet2DConditionModel(UNetConfig.sd15()).parameterCount());
    }

    @Test
    void bkSdmParameterCountsMatchThePaper() {
        // BK-SDM model card: U-Net 0.58B (Base), 0.49B (Small), 0.33B (Tiny). The official configs
        // (Nota-NetsPresso/BK-SDM src/unet_config) give 0.579B, 0.482B and 0.323B: the card's rounding is loose.
        // Small is exactly Base minus the 97,038,080-parameter mid block.
        long base = new UNet2DConditionModel(UNetConfig.bkSdmBase()).parameterCount();
        assertEquals(0.58e9, base, 0.005e9);
        UNet2DConditionModel small = new UNet2DConditionModel(UNetConfig.bkSdmSmall());
        assertEquals(base - new UNet2DConditionModel(UNetConfig.sd15()).midBlock.parameterCount(), small.parameterCount());
        assertEquals(0.482e9, small.parameterCount(), 0.001e9);
        long tiny = new UNet2DConditionModel(UNetConfig.bkSdmTiny()).parameterCount();
        assertEquals(0.33e9, tiny, 0.01e9);
        System.out.println("BK-SDM U-Net parameters: base " + base + ", small " + small.parameterCount() + ", tiny " + tiny);
    }

    @Test
    void sd15KeysFollowDiffusers() {
        UNet2DConditionModel u = new UNet2DConditionModel(UNetConfig.sd15());
        Map<String, Parameter> p = u.parameters();
        Map<String, Shape> expected = Map.ofEntries(
                Map.entry("conv_in.weight", new Shape(320, 4, 3, 3)),
                Map.entry("time_embedding.linear_1.weight", new Shape(1280, 320)),
                Map.entry("time_embedding.linear_2.bias", new Shape(1280)),
                Map.entry("down_blocks.0.resnets.0.conv1.weight", new Shape(320, 320, 3, 3)),
                Map.entry("down_blocks.1.resnets.0.conv_shortcut.weight", new Shape(640, 320, 1, 1)),
                Map.entry("down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight", new Shape(320, 768)),
                Map.entry("down_blocks.0.attentions.0.proj_in.weight", new Shape(320, 320, 1, 1)),
                Map.entry("down_blocks.2.downsamplers.0.conv.weight", new Shape(1280, 1280, 3, 3)),
                Map.entry("down_blocks.3.resnets.1.time_emb_proj.weight", new Shape(1280, 1280)),
                Map.entry("mid_block.resnets.1.norm2.weight", new Shape(1280)),
                Map.entry("mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight", new Shape(10240, 1280)),
                Map.entry("up_blocks.0.resnets.2.conv1.weight", new Shape(1280, 2560, 3, 3)),
                Map.entry("up_blocks.1.resnets.2.conv1.weight", new Shape(1280, 1920, 3, 3)),
                Map.entry("up_blocks.3.resnets.0.conv1.weight", new Shape(320, 960, 3, 3)),
                Map.entry("up_blocks.3.resnets.2.conv_shortcut.weight", new Shape(320, 640, 1, 1)),
                Map.entry("up_blocks.3.attentions.2.transformer_blocks.0.attn1.to_out.0.bias", new Shape(320)),
                Map.entry("up_blocks.2.upsamplers.0.conv.weight", new Shape(640, 640, 3, 3)),
                Map.entry("conv_norm_out.weight", new Shape(320)),
                Map.entry("conv_out.weight", new Shape(4, 320, 3, 3)));
        expected.forEach((k, s) -> {
            assertTrue(p.containsKey(k), "missing " + k);
            assertEquals(s, p.get(k).shape(), k);
        });
        for (String absent : List.of("down_blocks.3.attentions.0.norm.weight", "down_blocks.3.downsamplers.0.conv.weight",
                "up_blocks.0.attentions.0.norm.weight", "up_blocks.3.upsamplers.0.conv.weight",
                "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.bias")) {
            assertFalse(p.containsKey(absent), absent);
        }
        assertEquals(686, p.size());
    }

    @Test
    void bkSdmTinyHasThreeAttentionStagesAndNoMidBlock() {
        UNet2DConditionModel u = new UNet2DConditionModel(UNetConfig.bkSdmTiny());
        assertNull(u.midBlock);
        assertEquals(3, u.downBlocks.size());
        Map<String, Parameter> p = u.parameters();
        assertTrue(p.containsKey("down_blocks.2.attentions.0.proj_out.weight"));
        assertFalse(p.containsKey("down_blocks.2.downsamplers.0.conv.weight"));
        assertEquals(new Shape(1280, 1920, 3, 3), p.get("up_blocks.0.resnets.1.conv1.weight").shape());
        assertEquals(2, u.upBlocks.get(0).resnets.size());
    }

    @Test
    void blockCostsCoverEveryParameterAndSkippingRemovesFlops() {
        UNet2DConditionModel u = new UNet2DConditionModel(UNetConfig.sd15());
        List<BlockCost> costs = u.blockCosts(2, 64, 64, 77);
        assertEquals(u.parameterCount(), costs.stream().mapToLong(BlockCost::params).sum());
        long full = u.flops(2, 64, 64, 77);
        // SD-1.5 at 64x64: about 0.8 TFLOPs (2·MACs) per batch-2 evaluation
        assertTrue(full > 1.4e12 && full < 1.9e12, "flops " + full);
        BlockCost attn = costs.stream().filter(c -> c.path().equals("down_blocks.0.attentions.0")).findFirst().orElseThrow();
        u.setSkipped(Set.of("down_blocks.0.attentions.0"));
        assertEquals(full - attn.flops(), u.flops(2, 64, 64, 77));
    }

    @Test
    void macsWithoutAttentionCoreMatchTheBkSdmPaper() {
        // BK-SDM (Kim et al. 2024) Table: U-Net MACs per 512x512 forward, batch 1: SD 339G, Base 224G,
        // Small 218G, Tiny 205G. Their counter hooks modules, so it misses the attention matmuls
        // (q·kᵀ and ·v), which we subtract here.
        Map<UNetConfig, Double> paper = Map.of(UNetConfig.sd15(), 339.0, UNetConfig.bkSdmBase(), 224.0,
                UNetConfig.bkSdmSmall(), 218.0, UNetConfig.bkSdmTiny(), 205.0);
        paper.forEach((cfg, gmacs) -> {
            UNet2DConditionModel u = new UNet2DConditionModel(cfg);
            long core = 0;
            for (BlockCost c : u.blockCosts(1, 64, 64, 77)) {
                if (!c.path().contains("attentions")) continue;
                String[] p = c.path().split("\\.");
                int stage = p[0].equals("mid_block") ? cfg.stages() - 1
                        : p[0].equals("down_blocks") ? Integer.parseInt(p[1]) : cfg.stages() - 1 - Integer.parseInt(p[1]);
                long n = (64L >> stage) * (64L >> stage);
                long ch = cfg.blockOutChannels().get(stage);
                core += 4L * n * n * ch + 4L * n * 77 * ch;
            }
            double got = (u.flops(1, 64, 64, 77) - core) / 2e9;
            assertEquals(gmacs, got, 0.6, "GMACs of " + cfg.blockOutChannels() + " / " + cfg.midBlockType());
        });
    }

    @Test
    void configJsonRoundTripsAndReadsDiffusersFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        for (UNetConfig c : List.of(UNetConfig.sd15(), UNetConfig.bkSdmSmall(), UNetConfig.bkSdmTiny(), UNetConfig.tiny())) {
            java.nio.file.Path f = dir.resolve("config.json");
            c.writeJson(f);
            assertEquals(c, UNetConfig.readJson(f));
        }
        String sd2 = """
                {"_class_name": "UNet2DConditionModel", "attention_head_dim": [5, 10, 20, 20],
                 "block_out_channels": [320, 640, 1280, 1280], "cross_attention_dim": 1024,
                 "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
                 "layers_per_block": 2, "use_linear_projection": true, "sample_size": 96, "upcast_attention": false,
                 "class_embed_type": null, "resnet_time_scale_shift": "default", "dual_cross_attention": false}""";
        UNetConfig c = UNetConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(sd2), "sd2");
        assertEquals(List.of(5, 10, 20, 20), c.attentionHeads());
        assertEquals(UNetConfig.MID_CROSS_ATTN, c.midBlockType());
        // SD-2 (865,910,724 parameters: stabilityai/stable-diffusion-2 unet)
        assertEquals(865_910_724L, new UNet2DConditionModel(c).parameterCount());
    }

    @Test
    void readsAFullDiffusersConfig() throws Exception {
        // the fields of Nota-NetsPresso/BK-SDM src/unet_config/bk_small/config.json (diffusers 0.15)
        String bkSmall = """
                {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.15.0", "act_fn": "silu",
                 "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false,
                 "class_embed_type": null, "class_embeddings_concat": false, "conv_in_kernel": 3, "conv_out_kernel": 3,
                 "cross_attention_dim": 768, "cross_attention_norm": null,
                 "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                 "downsample_padding": 1, "dual_cross_attention": false, "encoder_hid_dim": null, "flip_sin_to_cos": true,
                 "freq_shift": 0, "in_channels": 4, "layers_per_block": 1, "mid_block_only_cross_attention": null,
                 "mid_block_scale_factor": 1, "mid_block_type": null, "norm_eps": 1e-05, "norm_num_groups": 32,
                 "num_class_embeds": null, "only_cross_attention": false, "out_channels": 4,
                 "projection_class_embeddings_input_dim": null, "resnet_out_scale_factor": 1.0,
                 "resnet_skip_time_act": false, "resnet_time_scale_shift": "default", "sample_size": 64,
                 "time_cond_proj_dim": null, "time_embedding_act_fn": null, "time_embedding_type": "positional",
                 "timestep_post_act": null,
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
                 "upcast_attention": false, "use_linear_projection": false}""";
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertEquals(UNetConfig.bkSdmSmall(), UNetConfig.fromJson(json.readTree(bkSmall), "bk_small"));
        // an LCM-distilled UNet adds a guidance projection we do not build: refused by name
        var e = assertThrows(IllegalArgumentException.class, () -> UNetConfig.fromJson(
                json.readTree(bkSmall.replace("\"time_cond_proj_dim\": null", "\"time_cond_proj_dim\": 256")), "lcm"));
        assertTrue(e.getMessage().contains("time_cond_proj_dim"), e.getMessage());
    }

    @Test
    void badConfigsFailWithClearMessages() {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        String base = """
                {"block_out_channels": [32, 64], "down_block_types": ["%s", "DownBlock2D"],
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "norm_num_groups": 8, "attention_head_dim": 2 %s}""";
        var e = assertThrows(IllegalArgumentException.class,
                () -> UNetConfig.fromJson(json.readTree(base.formatted("SimpleCrossAttnDownBlock2D", "")), "x"));
        assertTrue(e.getMessage().contains("SimpleCrossAttnDownBlock2D"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> UNetConfig.fromJson(json.readTree(base.formatted("CrossAttnDownBlock2D", ", \"time_cond_proj_dim\": 256")), "x"));
        assertTrue(e.getMessage().contains("time_cond_proj_dim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> UNetConfig.fromJson(json.readTree(base.formatted("CrossAttnDownBlock2D", ", \"layers_per_block\": [1, 1, 1]")), "x"));
        assertTrue(e.getMessage().contains("layers_per_block"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new UNetConfig(4, 4, List.of(30, 64), List.of(1, 1),
                List.of("DownBlock2D", "DownBlock2D"), List.of("UpBlock2D", "UpBlock2D"), null, List.of(2, 2), List.of(1, 1),
                32, 8, 1e-5f, false, 8, true, 0));
        assertTrue(e.getMessage().contains("norm_num_groups"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new UNetConfig(4, 4, List.of(32, 64), List.of(1, 1),
                List.of("DownBlock2D", "DownBlock2D"), List.of("UpBlock2D", "UpBlock2D"), null, List.of(3, 2), List.of(1, 1),
                32, 8, 1e-5f, false, 8, true, 0));
        assertTrue(e.getMessage().contains("heads"), e.getMessage());
    }

    @Test
    void tinyForwardShapeDeterminismSkippingAndLoad() {
        UNetConfig cfg = UNetConfig.tiny();
        try (NDManager weights = NDManager.newBaseManager(); NDManager step = NDManager.newBaseManager()) {
            UNet2DConditionModel u = new UNet2DConditionModel(cfg);
            u.initialize(weights, 0.2f, 7);
            NDArray x = Randn.randn(step, new Shape(2, 4, 8, 8), new Random(1));
            NDArray t = step.create(new float[] {10f, 500f});
            NDArray ctx = Randn.randn(step, new Shape(2, 5, 32), new Random(2));
            NDArray y = u.forward(x, t, ctx);
            assertEquals(new Shape(2, 4, 8, 8), y.getShape());
            float[] a = y.toFloatArray();
            int arrays = step.getManagedArrays().size();
            int weightArrays = weights.getManagedArrays().size();
            assertArrayEquals(a, u.forward(x, t, ctx).toFloatArray(), "same inputs, same output");
            assertEquals(arrays + 1, step.getManagedArrays().size(), "only the result is left in the caller's manager");
            assertEquals(weightArrays, weights.getManagedArrays().size(), "nothing attached to the weights' manager");

            NDArray wide = Randn.randn(step, new Shape(1, 4, 6, 10), new Random(4));
            assertEquals(new Shape(1, 4, 6, 10), u.forward(wide, step.create(new float[] {1f}), ctx.get("0:1")).getShape());

            // the block timer reports every block of blockCosts, in order
            List<String> timed = new java.util.ArrayList<>();
            u.forward(x, t, ctx, (path, nanos) -> {
                assertTrue(nanos > 0);
                timed.add(path);
            });
            assertEquals(u.blockCosts(2, 8, 8, 5).stream().map(BlockCost::path).toList(), timed);

            // a single timestep is broadcast over the batch
            float[] b = u.forward(x, step.create(new float[] {10f}), ctx).toFloatArray();
            assertArrayEquals(java.util.Arrays.copyOf(a, a.length / 2), java.util.Arrays.copyOf(b, b.length / 2), 1e-5f);

            // the timestep and the context both matter
            assertFalse(java.util.Arrays.equals(a, u.forward(x, step.create(new float[] {11f, 500f}), ctx).toFloatArray()));
            assertFalse(java.util.Arrays.equals(a, u.forward(x, t, ctx.mul(2)).toFloatArray()));

            // skipping a block changes the output; skipping everything still runs
            u.setSkipped(Set.of("down_blocks.0.attentions.0"));
            assertFalse(java.util.Arrays.equals(a, u.forward(x, t, ctx).toFloatArray()));
            u.setSkipped(Set.copyOf(u.blockPaths()));
            assertEquals(new Shape(2, 4, 8, 8), u.forward(x, t, ctx).getShape());
            u.setSkipped(Set.of());
            assertArrayEquals(a, u.forward(x, t, ctx).toFloatArray());
            var e = assertThrows(IllegalArgumentException.class, () -> u.setSkipped(Set.of("down_blocks.9.resnets.0")));
            assertTrue(e.getMessage().contains("down_blocks.9.resnets.0"));

            // state dict round trip: a second model loaded from the first's tensors gives the same output
            Map<String, NDArray> sd = new HashMap<>();
            u.parameters().forEach((k, p) -> sd.put(k, p.get().duplicate()));
            UNet2DConditionModel v = new UNet2DConditionModel(cfg);
            var report = v.load(sd);
            assertTrue(report.ok(), report.describe());
            assertArrayEquals(a, v.forward(x, t, ctx).toFloatArray());

            assertThrows(IllegalArgumentException.class, () -> u.forward(Randn.randn(step, new Shape(2, 4, 7, 8), new Random(3)), t, ctx));
            assertThrows(IllegalArgumentException.class, () -> u.forward(x, t, Randn.randn(step, new Shape(2, 5, 16), new Random(3))));
            assertThrows(IllegalArgumentException.class, () -> u.forward(x, step.create(new float[] {1f, 2f, 3f}), ctx));
        }
    }

    @Test
    void gradientsFlowThroughScopedBlocks() {
        // block scopes close intermediates; autograd keeps its own references, so training still works
        UNetConfig cfg = UNetConfig.tiny();
        try (NDManager weights = NDManager.newBaseManager(); NDManager step = NDManager.newBaseManager()) {
            UNet2DConditionModel u = new UNet2DConditionModel(cfg);
            u.initialize(weights, 0.2f, 3);
            NDArray w1 = u.downBlocks.get(0).resnets.get(0).conv1.weight.get();
            NDArray w2 = u.downBlocks.get(0).attentions.get(0).blocks.get(0).attn2.toK.weight.get();
            w1.setRequiresGradient(true);
            w2.setRequiresGradient(true);
            NDArray x = Randn.randn(step, new Shape(1, 4, 8, 8), new Random(1));
            NDArray ctx = Randn.randn(step, new Shape(1, 3, 32), new Random(2));
            try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                NDArray y = u.forward(x, step.create(new float[] {100f}), ctx);
                gc.backward(y.square().mean());
            }
            assertTrue(w1.getGradient().abs().sum().getFloat() > 0, "conv1 gets a gradient");
            assertTrue(w2.getGradient().abs().sum().getFloat() > 0, "cross-attention to_k gets a gradient");
        }
    }
}
