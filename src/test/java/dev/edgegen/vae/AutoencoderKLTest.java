package dev.edgegen.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.nn.Parameter;
import dev.edgegen.tensor.Randn;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutoencoderKLTest {

    @Test
    void sd15ParameterCountsAreThePublishedOnes() {
        AutoencoderKL vae = new AutoencoderKL(VAEConfig.sd15());
        // runwayml/stable-diffusion-v1-5 vae: 83,653,863 parameters in total
        assertEquals(83_653_863L, vae.parameterCount());
        // the commonly quoted decoder size, 49,490,179, is decoder.* alone; decoding also uses
        // post_quant_conv (4·4 + 4 = 20 parameters)
        assertEquals(49_490_179L, vae.decoder.parameterCount());
        assertEquals(49_490_199L, vae.decoderParameterCount());
        assertEquals(vae.parameterCount(), vae.encoderParameterCount() + vae.decoderParameterCount());
    }

    @Test
    void sd15KeysFollowDiffusers() {
        Map<String, Parameter> p = new AutoencoderKL(VAEConfig.sd15()).parameters();
        Map<String, Shape> expected = Map.of(
                "encoder.conv_in.weight", new Shape(128, 3, 3, 3),
                "encoder.down_blocks.0.downsamplers.0.conv.weight", new Shape(128, 128, 3, 3),
                "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", new Shape(256, 128, 1, 1),
                "encoder.mid_block.attentions.0.to_q.weight", new Shape(512, 512),
                "encoder.conv_out.weight", new Shape(8, 512, 3, 3),
                "quant_conv.weight", new Shape(8, 8, 1, 1),
                "post_quant_conv.weight", new Shape(4, 4, 1, 1),
                "decoder.up_blocks.0.upsamplers.0.conv.weight", new Shape(512, 512, 3, 3),
                "decoder.up_blocks.2.resnets.0.conv_shortcut.weight", new Shape(256, 512, 1, 1),
                "decoder.up_blocks.3.resnets.2.conv2.weight", new Shape(128, 128, 3, 3));
        expected.forEach((k, s) -> {
            assertTrue(p.containsKey(k), "missing " + k);
            assertEquals(s, p.get(k).shape(), k);
        });
        assertTrue(p.containsKey("decoder.mid_block.attentions.0.to_out.0.bias"));
        assertFalse(p.containsKey("decoder.up_blocks.3.upsamplers.0.conv.weight"));
        assertFalse(p.containsKey("encoder.down_blocks.3.downsamplers.0.conv.weight"));
        assertFalse(p.containsKey("decoder.up_blocks.0.resnets.0.time_emb_proj.weight"));
    }

    @Test
    void configJsonRoundTripsAndRejectsUnknownBlocks(@TempDir Path dir) throws Exception {
        for (VAEConfig c : List.of(VAEConfig.sd15(), VAEConfig.tiny())) {
            c.writeJson(dir.resolve("config.json"));
            assertEquals(c, VAEConfig.readJson(dir.resolve("config.json")));
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                {"_class_name": "AutoencoderKL", "block_out_channels": [32, 64], "norm_num_groups": 8,
                 "up_block_types": ["UpDecoderBlock2D", "AttnUpDecoderBlock2D"]}""");
        var e = assertThrows(IllegalArgumentException.class, () -> VAEConfig.fromJson(json, "vae"));
        assertTrue(e.getMessage().contains("AttnUpDecoderBlock2D"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VAEConfig(3, 3, 4, List.of(32, 60), 1, 8, 0.18f, 16));
        assertTrue(e.getMessage().contains("norm_num_groups"), e.getMessage());
    }

    @Test
    void normEpsilonIsDiffusersByDefaultAndConfigurableForOwnModels(@TempDir Path dir) throws Exception {
        assertEquals(1e-6f, VAEConfig.sd15().normEps());
        assertFalse(VAEConfig.sd15().toJson().has("norm_eps"), "diffusers files never carry norm_eps");
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        VAEConfig c = VAEConfig.fromJson(mapper.readTree(
                "{\"_class_name\": \"AutoencoderKL\", \"block_out_channels\": [32, 64], \"norm_num_groups\": 8, \"norm_eps\": 0.01}"), "vae");
        assertEquals(0.01f, c.normEps());
        c.writeJson(dir.resolve("config.json"));
        assertEquals(c, VAEConfig.readJson(dir.resolve("config.json")), "norm_eps survives config.json");
        assertEquals(0.01f, c.withLatentStats(List.of(0f, 0f, 0f, 0f), List.of(1f, 1f, 1f, 1f), 1f).normEps());
        AutoencoderKL vae = new AutoencoderKL(c);
        assertEquals(0.01f, vae.encoder.convNormOut.eps);
        assertEquals(0.01f, vae.decoder.upBlocks.get(1).resnets.get(0).norm2.eps);
        assertEquals(0.01f, vae.decoder.midBlock.resnets.get(0).norm1.eps);
        var e = assertThrows(IllegalArgumentException.class, () -> VAEConfig.fromJson(
                mapper.readTree("{\"block_out_channels\": [32], \"norm_num_groups\": 8, \"norm_eps\": 0}"), "vae"));
        assertTrue(e.getMessage().contains("norm_eps"), e.getMessage());
    }

    @Test
    void perChannelLatentStatisticsCentreAndRoundTrip(@TempDir Path dir) {
        VAEConfig c = VAEConfig.tiny().withLatentStats(List.of(-1f, 2f, 0f, 3f), List.of(0.5f, 2f, 1f, 4f), 1.5f);
        c.writeJson(dir.resolve("config.json"));
        assertEquals(c, VAEConfig.readJson(dir.resolve("config.json")), "latents_mean / latents_std survive config.json");
        AutoencoderKL vae = new AutoencoderKL(c);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = m.create(new float[] {-1f, 2.5f, 1f, 7f}, new Shape(1, 4, 1, 1));
            // (z − mean) · scale / std = (0, 0.25·1.5, 1.5, 1·1.5)
            assertArrayEquals(new float[] {0f, 0.375f, 1.5f, 1.5f}, vae.toDiffusionLatents(z).toFloatArray(), 1e-6f);
            assertArrayEquals(z.toFloatArray(), vae.fromDiffusionLatents(vae.toDiffusionLatents(z)).toFloatArray(), 1e-6f);
            AutoencoderKL plain = new AutoencoderKL(VAEConfig.tiny());
            assertArrayEquals(z.mul(0.18215f).toFloatArray(), plain.toDiffusionLatents(z).toFloatArray(), 1e-7f);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> VAEConfig.tiny().withLatentStats(List.of(1f, 2f), List.of(), 1f));
        assertTrue(e.getMessage().contains("one value per latent channel"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VAEConfig.tiny().withLatentStats(List.of(0f, 0f, 0f, 0f), List.of(1f, 1f, 0f, 1f), 1f));
    }

    @Test
    void flopsAreConsistent() {
        AutoencoderKL vae = new AutoencoderKL(VAEConfig.sd15());
        long decode = vae.decodeFlops(1, 64, 64);
        // SD VAE decoder at 512x512: ~1.24 TMACs, i.e. ~2.5 TFLOPs
        assertTrue(decode > 2.2e12 && decode < 2.8e12, "decode flops " + decode);
        // convolutions scale with pixels, the mid-block attention with pixels squared
        long attention64 = vae.decoder.midBlock.attentions.get(0).flops(1, 64, 64);
        long convs64 = decode - attention64;
        long attention128 = vae.decoder.midBlock.attentions.get(0).flops(1, 128, 128);
        assertEquals(4 * convs64, vae.decodeFlops(1, 128, 128) - attention128);
        assertEquals(2L * 4096 * 4 * 512 * 512 + 4L * 4096 * 4096 * 512, attention64);
        long encode = vae.encodeFlops(1, 512, 512);
        System.out.println("SD VAE GFLOPs at 512x512, batch 1: decode " + decode / 1e9 + ", encode " + encode / 1e9);
        assertTrue(encode > 0.3 * decode && encode < decode, "encode flops " + encode);
    }

    @Test
    void tinyDecodeEncodeShapesDeterminismAndPosterior() {
        VAEConfig cfg = VAEConfig.tiny();
        try (NDManager weights = NDManager.newBaseManager(); NDManager step = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(cfg);
            vae.initialize(weights, 0.2f, 5);
            NDArray z = Randn.randn(step, new Shape(2, 4, 6, 5), new Random(1));
            NDArray img = vae.decode(z);
            assertEquals(new Shape(2, 3, 12, 10), img.getShape());
            int arrays = step.getManagedArrays().size();
            int weightArrays = weights.getManagedArrays().size();
            assertArrayEquals(img.toFloatArray(), vae.decode(z).toFloatArray());
            assertEquals(arrays + 1, step.getManagedArrays().size(), "only the result stays in the caller's manager");
            assertEquals(weightArrays, weights.getManagedArrays().size());

            NDArray x = Randn.randn(step, new Shape(2, 3, 12, 10), new Random(2));
            try (Posterior post = vae.encode(x)) {
                assertEquals(new Shape(2, 4, 6, 5), post.mean().getShape());
                assertEquals(new Shape(2, 4, 6, 5), post.logvar().getShape());
                float[] a = post.sample(new Random(3)).toFloatArray();
                assertArrayEquals(a, post.sample(new Random(3)).toFloatArray(), "same seed, same sample");
                assertFalse(java.util.Arrays.equals(a, post.sample(new Random(4)).toFloatArray()));
                // sample = mean + exp(logvar/2)·ε with ε the seeded Java Gaussian stream
                float[] m = post.mean().toFloatArray();
                float[] lv = post.logvar().toFloatArray();
                Random r = new Random(3);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(m[i] + Math.exp(0.5 * lv[i]) * (float) r.nextGaussian(), a[i], 1e-4);
                    assertTrue(lv[i] >= -30 && lv[i] <= 20);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> vae.encode(Randn.randn(step, new Shape(1, 3, 11, 10), new Random(2))));
            assertThrows(IllegalArgumentException.class, () -> vae.decode(Randn.randn(step, new Shape(1, 3, 6, 5), new Random(2))));
        }
    }

    @Test
    void logvarIsClamped() {
        VAEConfig cfg = VAEConfig.tiny();
        try (NDManager weights = NDManager.newBaseManager(); NDManager step = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(cfg);
            vae.initialize(weights, 0.2f, 5);
            // a large quant_conv bias pushes the log-variance channels past 20
            float[] bias = new float[8];
            java.util.Arrays.fill(bias, 4, 8, 1000f);
            vae.quantConv.bias.set(weights.create(bias));
            try (Posterior post = vae.encode(step.zeros(new Shape(1, 3, 4, 4)))) {
                for (float v : post.logvar().toFloatArray()) assertEquals(20f, v);
            }
        }
    }

    @Test
    void decoderGradientsFlow() {
        try (NDManager weights = NDManager.newBaseManager(); NDManager step = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(VAEConfig.tiny());
            vae.initialize(weights, 0.2f, 5);
            NDArray w = vae.decoder.midBlock.attentions.get(0).toQ.weight.get();
            w.setRequiresGradient(true);
            try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                gc.backward(vae.decode(Randn.randn(step, new Shape(1, 4, 4, 4), new Random(1))).square().mean());
            }
            assertTrue(w.getGradient().abs().sum().getFloat() > 0);
        }
    }
}
