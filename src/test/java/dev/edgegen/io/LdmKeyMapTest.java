package dev.edgegen.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.io.LdmKeyMap.Part;
import dev.edgegen.io.LdmKeyMap.Plan;
import dev.edgegen.io.LdmKeyMap.Split;
import dev.edgegen.io.LdmKeyMap.Target;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SD-1.5's key lists, generated from its structure in both namings, then compared. */
class LdmKeyMapTest {
    @TempDir Path dir;

    static final List<String> WB = List.of("weight", "bias");

    static void wb(List<String> out, String prefix) {
        for (String p : WB) out.add(prefix + "." + p);
    }

    static List<String> ldmResnet(String p, boolean skip) {
        List<String> out = new ArrayList<>();
        for (String m : List.of("in_layers.0", "in_layers.2", "emb_layers.1", "out_layers.0", "out_layers.3")) wb(out, p + m);
        if (skip) wb(out, p + "skip_connection");
        return out;
    }

    static List<String> diffResnet(String p, boolean skip) {
        List<String> out = new ArrayList<>();
        for (String m : List.of("norm1", "conv1", "time_emb_proj", "norm2", "conv2")) wb(out, p + m);
        if (skip) wb(out, p + "conv_shortcut");
        return out;
    }

    /** SpatialTransformer and Transformer2DModel share their inner names. */
    static List<String> transformer(String p) {
        List<String> out = new ArrayList<>();
        wb(out, p + "norm");
        wb(out, p + "proj_in");
        String t = p + "transformer_blocks.0.";
        for (String a : List.of("attn1", "attn2")) {
            for (String q : List.of("to_q", "to_k", "to_v")) out.add(t + a + "." + q + ".weight");
            wb(out, t + a + ".to_out.0");
        }
        for (String m : List.of("norm1", "norm2", "norm3", "ff.net.0.proj", "ff.net.2")) wb(out, t + m);
        wb(out, p + "proj_out");
        return out;
    }

    /** SD-1.5 UNet in LDM naming: 4 stages, 2 resnets each, attention in the first 3, 3 resnets per up stage. */
    static List<String> ldmUnet() {
        List<String> k = new ArrayList<>();
        String u = "model.diffusion_model.";
        wb(k, u + "time_embed.0");
        wb(k, u + "time_embed.2");
        wb(k, u + "input_blocks.0.0");
        int i = 1;
        for (int s = 0; s < 4; s++) {
            for (int l = 0; l < 2; l++, i++) {
                k.addAll(ldmResnet(u + "input_blocks." + i + ".0.", (s == 1 || s == 2) && l == 0));
                if (s < 3) k.addAll(transformer(u + "input_blocks." + i + ".1."));
            }
            if (s < 3) wb(k, u + "input_blocks." + i++ + ".0.op");
        }
        k.addAll(ldmResnet(u + "middle_block.0.", false));
        k.addAll(transformer(u + "middle_block.1."));
        k.addAll(ldmResnet(u + "middle_block.2.", false));
        int o = 0;
        for (int s = 0; s < 4; s++) {
            for (int l = 0; l < 3; l++, o++) {
                k.addAll(ldmResnet(u + "output_blocks." + o + ".0.", true));
                if (s > 0) k.addAll(transformer(u + "output_blocks." + o + ".1."));
                if (s < 3 && l == 2) wb(k, u + "output_blocks." + o + "." + (s > 0 ? 2 : 1) + ".conv");
            }
        }
        wb(k, u + "out.0");
        wb(k, u + "out.2");
        return k;
    }

    static Set<String> diffusersUnet() {
        List<String> k = new ArrayList<>();
        wb(k, "conv_in");
        wb(k, "time_embedding.linear_1");
        wb(k, "time_embedding.linear_2");
        for (int s = 0; s < 4; s++) {
            for (int l = 0; l < 2; l++) {
                k.addAll(diffResnet("down_blocks." + s + ".resnets." + l + ".", (s == 1 || s == 2) && l == 0));
                if (s < 3) k.addAll(transformer("down_blocks." + s + ".attentions." + l + "."));
            }
            if (s < 3) wb(k, "down_blocks." + s + ".downsamplers.0.conv");
        }
        k.addAll(diffResnet("mid_block.resnets.0.", false));
        k.addAll(transformer("mid_block.attentions.0."));
        k.addAll(diffResnet("mid_block.resnets.1.", false));
        for (int s = 0; s < 4; s++) {
            for (int l = 0; l < 3; l++) {
                k.addAll(diffResnet("up_blocks." + s + ".resnets." + l + ".", true));
                if (s > 0) k.addAll(transformer("up_blocks." + s + ".attentions." + l + "."));
            }
            if (s < 3) wb(k, "up_blocks." + s + ".upsamplers.0.conv");
        }
        wb(k, "conv_norm_out");
        wb(k, "conv_out");
        return new TreeSet<>(k);
    }

    static void vaeResnet(List<String> k, String p, boolean shortcut, String shortcutName) {
        for (String m : List.of("norm1", "conv1", "norm2", "conv2")) wb(k, p + m);
        if (shortcut) wb(k, p + shortcutName);
    }

    /** SD VAE in LDM naming: ch_mult (1, 2, 4, 4), 2 resnets per encoder level, 3 per decoder level. */
    static List<String> ldmVae() {
        List<String> k = new ArrayList<>();
        String v = "first_stage_model.";
        for (String side : List.of("encoder", "decoder")) {
            String p = v + side + ".";
            wb(k, p + "conv_in");
            vaeResnet(k, p + "mid.block_1.", false, null);
            for (String m : List.of("norm", "q", "k", "v", "proj_out")) wb(k, p + "mid.attn_1." + m);
            vaeResnet(k, p + "mid.block_2.", false, null);
            wb(k, p + "norm_out");
            wb(k, p + "conv_out");
        }
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) vaeResnet(k, v + "encoder.down." + i + ".block." + j + ".", j == 0 && (i == 1 || i == 2), "nin_shortcut");
            if (i < 3) wb(k, v + "encoder.down." + i + ".downsample.conv");
            for (int j = 0; j < 3; j++) vaeResnet(k, v + "decoder.up." + i + ".block." + j + ".", j == 0 && i < 2, "nin_shortcut");
            if (i > 0) wb(k, v + "decoder.up." + i + ".upsample.conv");
        }
        wb(k, v + "quant_conv");
        wb(k, v + "post_quant_conv");
        return k;
    }

    static Set<String> diffusersVae() {
        List<String> k = new ArrayList<>();
        for (String side : List.of("encoder", "decoder")) {
            String p = side + ".";
            wb(k, p + "conv_in");
            vaeResnet(k, p + "mid_block.resnets.0.", false, null);
            for (String m : List.of("group_norm", "to_q", "to_k", "to_v", "to_out.0")) wb(k, p + "mid_block.attentions.0." + m);
            vaeResnet(k, p + "mid_block.resnets.1.", false, null);
            wb(k, p + "conv_norm_out");
            wb(k, p + "conv_out");
        }
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) vaeResnet(k, "encoder.down_blocks." + i + ".resnets." + j + ".", j == 0 && (i == 1 || i == 2), "conv_shortcut");
            if (i < 3) wb(k, "encoder.down_blocks." + i + ".downsamplers.0.conv");
            for (int j = 0; j < 3; j++) vaeResnet(k, "decoder.up_blocks." + i + ".resnets." + j + ".", j == 0 && i >= 2, "conv_shortcut");
            if (i < 3) wb(k, "decoder.up_blocks." + i + ".upsamplers.0.conv");
        }
        wb(k, "quant_conv");
        wb(k, "post_quant_conv");
        return new TreeSet<>(k);
    }

    static List<String> textKeys(String p) {
        List<String> k = new ArrayList<>();
        k.add(p + "embeddings.token_embedding.weight");
        k.add(p + "embeddings.position_embedding.weight");
        for (int i = 0; i < 12; i++) {
            String l = p + "encoder.layers." + i + ".";
            for (String m : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                    "layer_norm1", "mlp.fc1", "mlp.fc2", "layer_norm2")) wb(k, l + m);
        }
        wb(k, p + "final_layer_norm");
        return k;
    }

    static List<String> sd15Checkpoint() {
        List<String> k = new ArrayList<>(ldmUnet());
        k.addAll(ldmVae());
        k.addAll(textKeys("cond_stage_model.transformer.text_model."));
        k.add("cond_stage_model.transformer.text_model.embeddings.position_ids");
        k.addAll(List.of("betas", "alphas_cumprod", "model_ema.decay", "model_ema.num_updates", "logvar"));
        return k;
    }

    static Map<String, String> names(Plan plan, Part part) {
        Map<String, String> m = new LinkedHashMap<>();
        plan.targets().forEach((k, t) -> { if (t.part() == part) m.put(k, t.name()); });
        return m;
    }

    @Test
    void sd15KeyListMapsOntoDiffusersNamesExactly() {
        List<String> keys = sd15Checkpoint();
        Plan plan = LdmKeyMap.plan(keys);
        Map<String, String> unet = names(plan, Part.UNET);
        Map<String, String> vae = names(plan, Part.VAE);
        Map<String, String> text = names(plan, Part.TEXT_ENCODER);
        // covers every model key, injective, and lands exactly on the diffusers key sets
        assertEquals(686, unet.size());
        assertEquals(248, vae.size());
        assertEquals(196, text.size());
        assertEquals(diffusersUnet(), new TreeSet<>(unet.values()));
        assertEquals(diffusersVae(), new TreeSet<>(vae.values()));
        assertEquals(new TreeSet<>(textKeys("text_model.")), new TreeSet<>(text.values()));
        assertEquals(686 + 248 + 196, new HashSet<>(plan.targets().values()).size());
        assertEquals(Set.of("betas", "alphas_cumprod", "model_ema.decay", "model_ema.num_updates", "logvar",
                "cond_stage_model.transformer.text_model.embeddings.position_ids"), new HashSet<>(plan.ignored()));
        assertEquals(keys.size(), plan.targets().size() + plan.ignored().size());
    }

    @Test
    void knownMappings() {
        Plan plan = LdmKeyMap.plan(sd15Checkpoint());
        String u = "model.diffusion_model.";
        Map<String, String> want = new LinkedHashMap<>();
        want.put(u + "input_blocks.0.0.weight", "conv_in.weight");
        want.put(u + "time_embed.2.bias", "time_embedding.linear_2.bias");
        want.put(u + "input_blocks.1.0.in_layers.0.weight", "down_blocks.0.resnets.0.norm1.weight");
        want.put(u + "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight", "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight");
        want.put(u + "input_blocks.3.0.op.weight", "down_blocks.0.downsamplers.0.conv.weight");
        want.put(u + "input_blocks.4.0.skip_connection.weight", "down_blocks.1.resnets.0.conv_shortcut.weight");
        want.put(u + "input_blocks.11.0.out_layers.3.bias", "down_blocks.3.resnets.1.conv2.bias");
        want.put(u + "middle_block.1.proj_in.weight", "mid_block.attentions.0.proj_in.weight");
        want.put(u + "middle_block.2.emb_layers.1.weight", "mid_block.resnets.1.time_emb_proj.weight");
        want.put(u + "output_blocks.2.1.conv.weight", "up_blocks.0.upsamplers.0.conv.weight");
        want.put(u + "output_blocks.5.2.conv.bias", "up_blocks.1.upsamplers.0.conv.bias");
        want.put(u + "output_blocks.5.1.norm.weight", "up_blocks.1.attentions.2.norm.weight");
        want.put(u + "output_blocks.11.1.proj_out.weight", "up_blocks.3.attentions.2.proj_out.weight");
        want.put(u + "output_blocks.9.0.skip_connection.bias", "up_blocks.3.resnets.0.conv_shortcut.bias");
        want.put(u + "out.0.weight", "conv_norm_out.weight");
        want.put(u + "out.2.bias", "conv_out.bias");
        String v = "first_stage_model.";
        want.put(v + "decoder.up.3.block.0.conv1.weight", "decoder.up_blocks.0.resnets.0.conv1.weight");
        want.put(v + "decoder.up.1.upsample.conv.weight", "decoder.up_blocks.2.upsamplers.0.conv.weight");
        want.put(v + "decoder.up.0.block.0.nin_shortcut.weight", "decoder.up_blocks.3.resnets.0.conv_shortcut.weight");
        want.put(v + "encoder.down.2.downsample.conv.bias", "encoder.down_blocks.2.downsamplers.0.conv.bias");
        want.put(v + "encoder.mid.attn_1.q.weight", "encoder.mid_block.attentions.0.to_q.weight");
        want.put(v + "decoder.mid.attn_1.proj_out.bias", "decoder.mid_block.attentions.0.to_out.0.bias");
        want.put(v + "decoder.mid.attn_1.norm.weight", "decoder.mid_block.attentions.0.group_norm.weight");
        want.put(v + "encoder.mid.block_2.conv2.weight", "encoder.mid_block.resnets.1.conv2.weight");
        want.put(v + "encoder.norm_out.bias", "encoder.conv_norm_out.bias");
        want.put(v + "post_quant_conv.weight", "post_quant_conv.weight");
        want.put("cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc2.bias", "text_model.encoder.layers.11.mlp.fc2.bias");
        want.forEach((from, to) -> assertEquals(to, plan.targets().get(from).name(), from));
        assertTrue(plan.targets().get(v + "encoder.mid.attn_1.k.weight").convToLinear());
        assertTrue(plan.targets().get(v + "decoder.mid.attn_1.proj_out.weight").convToLinear());
        assertFalse(plan.targets().get(v + "decoder.mid.attn_1.proj_out.bias").convToLinear());
        assertFalse(plan.targets().get(v + "decoder.mid.attn_1.norm.weight").convToLinear());
        assertFalse(plan.targets().get(u + "middle_block.1.proj_in.weight").convToLinear(), "SD-1 UNet keeps conv proj_in");
    }

    @Test
    void layoutIsInferredForOtherDepths() {
        // 3 stages, 1 resnet per stage (2 per up stage), attention only in the last stage
        String u = "model.diffusion_model.";
        List<String> k = new ArrayList<>();
        wb(k, u + "input_blocks.0.0");
        k.addAll(ldmResnet(u + "input_blocks.1.0.", false));
        wb(k, u + "input_blocks.2.0.op");
        k.addAll(ldmResnet(u + "input_blocks.3.0.", true));
        wb(k, u + "input_blocks.4.0.op");
        k.addAll(ldmResnet(u + "input_blocks.5.0.", true));
        k.addAll(transformer(u + "input_blocks.5.1."));
        for (int o = 0; o < 6; o++) {
            k.addAll(ldmResnet(u + "output_blocks." + o + ".0.", true));
            if (o < 2) k.addAll(transformer(u + "output_blocks." + o + ".1."));
        }
        wb(k, u + "output_blocks.1.2.conv");
        wb(k, u + "output_blocks.3.1.conv");
        Map<String, String> m = names(LdmKeyMap.plan(k), Part.UNET);
        assertEquals("down_blocks.1.downsamplers.0.conv.weight", m.get(u + "input_blocks.4.0.op.weight"));
        assertEquals("down_blocks.2.attentions.0.norm.bias", m.get(u + "input_blocks.5.1.norm.bias"));
        assertEquals("up_blocks.0.attentions.1.proj_in.weight", m.get(u + "output_blocks.1.1.proj_in.weight"));
        assertEquals("up_blocks.0.upsamplers.0.conv.weight", m.get(u + "output_blocks.1.2.conv.weight"));
        assertEquals("up_blocks.1.upsamplers.0.conv.bias", m.get(u + "output_blocks.3.1.conv.bias"));
        assertEquals("up_blocks.2.resnets.1.norm2.weight", m.get(u + "output_blocks.5.0.out_layers.0.weight"));
        assertEquals(k.size(), new HashSet<>(m.values()).size());
    }

    @Test
    void unknownKeysAreNamedNotDropped() {
        List<String> k = new ArrayList<>(ldmUnet());
        k.add("model.diffusion_model.label_emb.0.0.weight");
        WeightsException e = assertThrows(WeightsException.class, () -> LdmKeyMap.plan(k));
        assertTrue(e.getMessage().contains("label_emb.0.0.weight"), e.getMessage());
        e = assertThrows(WeightsException.class, () -> LdmKeyMap.plan(List.of("first_stage_model.encoder.down.0.attn.0.q.weight")));
        assertTrue(e.getMessage().contains("unrecognised VAE key"), e.getMessage());
        e = assertThrows(WeightsException.class, () -> LdmKeyMap.plan(List.of("cond_stage_model.model.transformer.resblocks.0.ln_1.weight")));
        assertTrue(e.getMessage().contains("SD 1.x"), e.getMessage());
        List<String> missingOut = new ArrayList<>(ldmUnet());
        missingOut.removeIf(s -> s.contains("output_blocks.11."));
        e = assertThrows(WeightsException.class, () -> LdmKeyMap.plan(missingOut));
        assertTrue(e.getMessage().contains("output blocks"), e.getMessage());
    }

    @Test
    void splitMovesTensorsAndReshapesVaeAttention() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> ldm = new LinkedHashMap<>();
            float[] q = {1, 2, 3, 4};
            ldm.put("first_stage_model.encoder.mid.attn_1.q.weight", m.create(q, new Shape(2, 2, 1, 1)));
            ldm.put("first_stage_model.encoder.conv_in.weight", m.ones(new Shape(3, 3, 1, 1)));
            ldm.put("model.diffusion_model.time_embed.0.weight", m.create(new float[] {5}, new Shape(1, 1)));
            ldm.put("model_ema.diffusion_modeltime_embed0weight", m.create(new float[] {6}, new Shape(1, 1)));
            ldm.put("cond_stage_model.transformer.text_model.final_layer_norm.bias", m.zeros(new Shape(4)));
            ldm.put("cond_stage_model.transformer.text_model.embeddings.position_ids", m.arange(4));
            Split s = LdmKeyMap.split(ldm);
            NDArray toQ = s.vae().get("encoder.mid_block.attentions.0.to_q.weight");
            assertEquals(new Shape(2, 2), toQ.getShape());
            assertArrayEquals(q, toQ.toFloatArray());
            assertEquals(new Shape(3, 3, 1, 1), s.vae().get("encoder.conv_in.weight").getShape());
            assertEquals(5f, s.unet().get("time_embedding.linear_1.weight").getFloat(0, 0));
            assertEquals(Set.of("text_model.final_layer_norm.bias"), s.textEncoder().keySet());
            assertTrue(s.ignored().contains("cond_stage_model.transformer.text_model.embeddings.position_ids"));
            assertTrue(s.ignored().contains("model_ema.diffusion_modeltime_embed0weight"));

            Split ema = LdmKeyMap.split(ldm, true);
            assertEquals(6f, ema.unet().get("time_embedding.linear_1.weight").getFloat(0, 0));
            assertTrue(ema.ignored().contains("model.diffusion_model.time_embed.0.weight"));
            assertFalse(ema.ignored().contains("model_ema.diffusion_modeltime_embed0weight"));

            // same split read lazily from a safetensors file
            Path p = dir.resolve("sd.safetensors");
            Safetensors.write(p, ldm, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                Split fromFile = LdmKeyMap.split(f, m, false);
                assertArrayEquals(q, fromFile.vae().get("encoder.mid_block.attentions.0.to_q.weight").toFloatArray());
                assertEquals(2, fromFile.vae().size());
            }
        }
    }

    @Test
    void oldTextKeysWithoutTextModelPrefix() {
        Plan p = LdmKeyMap.plan(List.of("cond_stage_model.transformer.embeddings.token_embedding.weight"));
        assertEquals(new Target(Part.TEXT_ENCODER, "text_model.embeddings.token_embedding.weight", false),
                p.targets().get("cond_stage_model.transformer.embeddings.token_embedding.weight"));
    }

    @Test
    void oldDiffusersVaeAttentionNames() {
        assertEquals("decoder.mid_block.attentions.0.to_q.weight", LdmKeyMap.normalizeDiffusersVaeKey("decoder.mid_block.attentions.0.query.weight"));
        assertEquals("encoder.mid_block.attentions.0.to_out.0.bias", LdmKeyMap.normalizeDiffusersVaeKey("encoder.mid_block.attentions.0.proj_attn.bias"));
        assertEquals("encoder.mid_block.attentions.0.group_norm.weight", LdmKeyMap.normalizeDiffusersVaeKey("encoder.mid_block.attentions.0.group_norm.weight"));
        assertEquals("decoder.up_blocks.0.resnets.0.conv1.weight", LdmKeyMap.normalizeDiffusersVaeKey("decoder.up_blocks.0.resnets.0.conv1.weight"));
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> old = new LinkedHashMap<>();
            old.put("decoder.mid_block.attentions.0.key.weight", m.ones(new Shape(2, 2, 1, 1)));
            old.put("decoder.mid_block.attentions.0.value.weight", m.ones(new Shape(2, 2)));
            old.put("decoder.conv_in.weight", m.ones(new Shape(2, 2, 1, 1)));
            Map<String, NDArray> n = LdmKeyMap.normalizeDiffusersVae(old);
            assertEquals(new Shape(2, 2), n.get("decoder.mid_block.attentions.0.to_k.weight").getShape());
            assertEquals(new Shape(2, 2), n.get("decoder.mid_block.attentions.0.to_v.weight").getShape());
            assertEquals(new Shape(2, 2, 1, 1), n.get("decoder.conv_in.weight").getShape());
            old.put("decoder.mid_block.attentions.0.to_k.weight", m.ones(new Shape(2, 2)));
            assertThrows(WeightsException.class, () -> LdmKeyMap.normalizeDiffusersVae(old));
        }
    }
}
