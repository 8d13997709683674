package dev.edgegen.unet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Architecture of a diffusers UNet2DConditionModel (the subset Stable Diffusion 1.x/2.x, BK-SDM and
 * similar use). Lists are per down stage (index 0 = full resolution); up stages mirror them reversed.
 *
 * @param inChannels                latent channels in (4)
 * @param outChannels               latent channels out (4)
 * @param blockOutChannels          channels of each stage, e.g. (320, 640, 1280, 1280)
 * @param layersPerBlock            resnets per down stage; up stages have one more
 * @param downBlockTypes            CrossAttnDownBlock2D or DownBlock2D per stage
 * @param upBlockTypes              CrossAttnUpBlock2D or UpBlock2D per up stage (innermost first)
 * @param midBlockType              UNetMidBlock2DCrossAttn, or null for no mid block (BK-SDM-Small)
 * @param attentionHeads            number of heads per stage; diffusers' SD configs store this in
 *                                  {@code attention_head_dim} (8 for SD-1.5) when num_attention_heads is absent
 * @param transformerLayersPerBlock transformer blocks inside each Transformer2DModel, per stage
 * @param crossAttentionDim         text context width (768 for CLIP ViT-L)
 * @param normNumGroups             GroupNorm groups (32)
 * @param normEps                   resnet / output GroupNorm epsilon (1e-5)
 * @param useLinearProjection       Transformer2DModel proj_in/proj_out as Linear (SD-2) instead of 1×1 conv
 * @param sampleSize                default latent size (64 for 512×512 images)
 * @param flipSinToCos              timestep embedding order [cos, sin] (true for SD)
 * @param freqShift                 timestep embedding frequency shift (0 for SD)
 */
public record UNetConfig(
        int inChannels,
        int outChannels,
        List<Integer> blockOutChannels,
        List<Integer> layersPerBlock,
        List<String> downBlockTypes,
        List<String> upBlockTypes,
        String midBlockType,
        List<Integer> attentionHeads,
        List<Integer> transformerLayersPerBlock,
        int crossAttentionDim,
        int normNumGroups,
        float normEps,
        boolean useLinearProjection,
        int sampleSize,
        boolean flipSinToCos,
        int freqShift) {

    public static final String CROSS_ATTN_DOWN = "CrossAttnDownBlock2D";
    public static final String DOWN = "DownBlock2D";
    public static final String CROSS_ATTN_UP = "CrossAttnUpBlock2D";
    public static final String UP = "UpBlock2D";
    public static final String MID_CROSS_ATTN = "UNetMidBlock2DCrossAttn";

    public UNetConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        layersPerBlock = List.copyOf(layersPerBlock);
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        attentionHeads = List.copyOf(attentionHeads);
        transformerLayersPerBlock = List.copyOf(transformerLayersPerBlock);
        int n = blockOutChannels.size();
        if (n == 0) throw new IllegalArgumentException("block_out_channels is empty");
        requireSize("layers_per_block", layersPerBlock, n);
        requireSize("down_block_types", downBlockTypes, n);
        requireSize("up_block_types", upBlockTypes, n);
        requireSize("attention_head_dim (number of heads)", attentionHeads, n);
        requireSize("transformer_layers_per_block", transformerLayersPerBlock, n);
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException("in_channels and out_channels must be positive, got " + inChannels + ", " + outChannels);
        }
        if (normNumGroups <= 0) throw new IllegalArgumentException("norm_num_groups must be positive, got " + normNumGroups);
        if (!(normEps > 0)) throw new IllegalArgumentException("norm_eps must be positive, got " + normEps);
        if (crossAttentionDim <= 0) throw new IllegalArgumentException("cross_attention_dim must be positive, got " + crossAttentionDim);
        for (int i = 0; i < n; i++) {
            int c = blockOutChannels.get(i);
            if (c <= 0 || c % normNumGroups != 0) {
                throw new IllegalArgumentException("block_out_channels[" + i + "] = " + c
                        + " must be a positive multiple of norm_num_groups = " + normNumGroups);
            }
            if (layersPerBlock.get(i) < 1) {
                throw new IllegalArgumentException("layers_per_block[" + i + "] must be at least 1, got " + layersPerBlock.get(i));
            }
            if (transformerLayersPerBlock.get(i) < 1) {
                throw new IllegalArgumentException("transformer_layers_per_block[" + i + "] must be at least 1");
            }
            int heads = attentionHeads.get(i);
            if (heads < 1 || c % heads != 0) {
                throw new IllegalArgumentException("stage " + i + ": " + c + " channels cannot be split into "
                        + heads + " attention heads (attention_head_dim / num_attention_heads)");
            }
            String d = downBlockTypes.get(i);
            if (!d.equals(CROSS_ATTN_DOWN) && !d.equals(DOWN)) {
                throw new IllegalArgumentException("unsupported down block type '" + d + "' at down_block_types["
                        + i + "]; supported: " + CROSS_ATTN_DOWN + ", " + DOWN);
            }
            String u = upBlockTypes.get(i);
            if (!u.equals(CROSS_ATTN_UP) && !u.equals(UP)) {
                throw new IllegalArgumentException("unsupported up block type '" + u + "' at up_block_types["
                        + i + "]; supported: " + CROSS_ATTN_UP + ", " + UP);
            }
        }
        if (midBlockType != null && !midBlockType.equals(MID_CROSS_ATTN)) {
            throw new IllegalArgumentException("unsupported mid_block_type '" + midBlockType + "'; supported: "
                    + MID_CROSS_ATTN + " or null (no mid block)");
        }
        if (sampleSize <= 0) throw new IllegalArgumentException("sample_size must be positive, got " + sampleSize);
    }

    private static void requireSize(String name, List<?> l, int n) {
        if (l.size() != n) {
            throw new IllegalArgumentException(name + " has " + l.size() + " entries but block_out_channels has " + n);
        }
    }

    public int stages() { return blockOutChannels.size(); }

    /** Width of the time embedding: 4 × block_out_channels[0]. */
    public int timeEmbedDim() { return 4 * blockOutChannels.get(0); }

    /** Latent sizes must be multiples of this (one halving per stage but the last). */
    public int sizeMultiple() { return 1 << (stages() - 1); }

    /** Stable Diffusion 1.x (runwayml/stable-diffusion-v1-5 unet/config.json). */
    public static UNetConfig sd15() {
        return new UNetConfig(4, 4, List.of(320, 640, 1280, 1280), List.of(2, 2, 2, 2),
                List.of(CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, DOWN),
                List.of(UP, CROSS_ATTN_UP, CROSS_ATTN_UP, CROSS_ATTN_UP),
                MID_CROSS_ATTN, List.of(8, 8, 8, 8), List.of(1, 1, 1, 1),
                768, 32, 1e-5f, false, 64, true, 0);
    }

    /** BK-SDM-Base (Kim et al. 2023): one resnet/attention pair per down stage, two per up stage. */
    public static UNetConfig bkSdmBase() {
        UNetConfig s = sd15();
        return new UNetConfig(4, 4, s.blockOutChannels, List.of(1, 1, 1, 1), s.downBlockTypes, s.upBlockTypes,
                MID_CROSS_ATTN, s.attentionHeads, s.transformerLayersPerBlock, 768, 32, 1e-5f, false, 64, true, 0);
    }

    /** BK-SDM-Small: BK-SDM-Base without the mid block. */
    public static UNetConfig bkSdmSmall() {
        UNetConfig s = sd15();
        return new UNetConfig(4, 4, s.blockOutChannels, List.of(1, 1, 1, 1), s.downBlockTypes, s.upBlockTypes,
                null, s.attentionHeads, s.transformerLayersPerBlock, 768, 32, 1e-5f, false, 64, true, 0);
    }

    /**
     * BK-SDM-Tiny: BK-SDM-Small without the innermost (8×8, attention-free) stage: three stages
     * (320, 640, 1280), all with cross-attention, no mid block.
     */
    public static UNetConfig bkSdmTiny() {
        return new UNetConfig(4, 4, List.of(320, 640, 1280), List.of(1, 1, 1),
                List.of(CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, CROSS_ATTN_DOWN),
                List.of(CROSS_ATTN_UP, CROSS_ATTN_UP, CROSS_ATTN_UP),
                null, List.of(8, 8, 8), List.of(1, 1, 1), 768, 32, 1e-5f, false, 64, true, 0);
    }

    /** A very small UNet for tests: channels (32, 64), one layer per stage, context width 32. */
    public static UNetConfig tiny() {
        return new UNetConfig(4, 4, List.of(32, 64), List.of(1, 1),
                List.of(CROSS_ATTN_DOWN, DOWN), List.of(UP, CROSS_ATTN_UP),
                MID_CROSS_ATTN, List.of(2, 4), List.of(1, 1), 32, 8, 1e-5f, false, 8, true, 0);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Keys whose non-default values change the network in ways this implementation does not support. */
    private static final List<String[]> UNSUPPORTED_IF_SET = List.of(
            new String[] {"class_embed_type", null}, new String[] {"addition_embed_type", null},
            new String[] {"encoder_hid_dim", null}, new String[] {"time_cond_proj_dim", null},
            new String[] {"num_class_embeds", null}, new String[] {"time_embedding_dim", null},
            new String[] {"time_embedding_act_fn", null}, new String[] {"timestep_post_act", null},
            new String[] {"reverse_transformer_layers_per_block", null}, new String[] {"cross_attention_norm", null},
            new String[] {"time_embedding_type", "positional"}, new String[] {"attention_type", "default"},
            new String[] {"resnet_time_scale_shift", "default"}, new String[] {"act_fn", "silu"},
            new String[] {"conv_in_kernel", "3"}, new String[] {"conv_out_kernel", "3"},
            new String[] {"only_cross_attention", "false"}, new String[] {"dual_cross_attention", "false"},
            new String[] {"center_input_sample", "false"}, new String[] {"downsample_padding", "1"},
            new String[] {"mid_block_scale_factor", "1"}, new String[] {"resnet_out_scale_factor", "1.0"},
            new String[] {"resnet_skip_time_act", "false"});

    /** Reads a diffusers {@code unet/config.json}. */
    public static UNetConfig readJson(Path file) {
        try {
            return fromJson(JSON.readTree(file.toFile()), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read UNet config " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses a diffusers UNet2DConditionModel config; {@code source} names it in error messages.
     * Options that change the network beyond this implementation fail with their name; upcast_attention
     * is accepted since everything runs in float32.
     */
    public static UNetConfig fromJson(JsonNode root, String source) {
        if (!root.isObject()) throw new IllegalArgumentException(source + ": UNet config must be a JSON object");
        String cls = root.path("_class_name").asText("UNet2DConditionModel");
        if (!cls.equals("UNet2DConditionModel")) {
            throw new IllegalArgumentException(source + ": _class_name is " + cls + ", expected UNet2DConditionModel");
        }
        for (String[] kv : UNSUPPORTED_IF_SET) {
            JsonNode v = root.get(kv[0]);
            if (v != null && !v.isNull() && !isDefault(v, kv[1])) {
                throw new IllegalArgumentException(source + ": " + kv[0] + " = " + v + " is not supported"
                        + (kv[1] == null ? " (only null)" : " (only " + kv[1] + ")"));
            }
        }
        List<Integer> channels = intList(root, "block_out_channels", source);
        int n = channels.size();
        JsonNode heads = root.get("num_attention_heads");
        if (heads == null || heads.isNull()) heads = root.get("attention_head_dim");
        List<Integer> headList = heads == null || heads.isNull() ? Collections.nCopies(n, 8) : intOrList(heads, "attention_head_dim", n, source);
        JsonNode mid = root.get("mid_block_type");
        String midType = root.has("mid_block_type") ? (mid.isNull() ? null : mid.asText()) : MID_CROSS_ATTN;
        return new UNetConfig(
                root.path("in_channels").asInt(4),
                root.path("out_channels").asInt(4),
                channels,
                intOrList(root.path("layers_per_block"), "layers_per_block", n, source, 2),
                stringList(root, "down_block_types", source),
                stringList(root, "up_block_types", source),
                midType,
                headList,
                intOrList(root.path("transformer_layers_per_block"), "transformer_layers_per_block", n, source, 1),
                root.path("cross_attention_dim").asInt(1280),
                root.path("norm_num_groups").asInt(32),
                (float) root.path("norm_eps").asDouble(1e-5),
                root.path("use_linear_projection").asBoolean(false),
                root.path("sample_size").asInt(64),
                root.path("flip_sin_to_cos").asBoolean(true),
                root.path("freq_shift").asInt(0));
    }

    private static boolean isDefault(JsonNode v, String allowed) {
        if (allowed == null) return false;
        if (v.isArray()) {
            for (JsonNode e : v) {
                if (!isDefault(e, allowed)) return false;
            }
            return true;
        }
        if (v.isNumber()) return v.asDouble() == Double.parseDouble(allowed);
        return v.asText().equals(allowed);
    }

    private static List<Integer> intOrList(JsonNode v, String name, int n, String source, int dflt) {
        if (v.isMissingNode() || v.isNull()) return Collections.nCopies(n, dflt);
        return intOrList(v, name, n, source);
    }

    private static List<Integer> intOrList(JsonNode v, String name, int n, String source) {
        if (v.isInt()) return Collections.nCopies(n, v.asInt());
        if (v.isArray()) {
            List<Integer> out = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isInt()) throw new IllegalArgumentException(source + ": " + name + " must hold integers, found " + e);
                out.add(e.asInt());
            }
            if (out.size() != n) {
                throw new IllegalArgumentException(source + ": " + name + " has " + out.size() + " entries, expected " + n + " (one per stage)");
            }
            return out;
        }
        throw new IllegalArgumentException(source + ": " + name + " must be an integer or a list, found " + v);
    }

    private static List<Integer> intList(JsonNode root, String name, String source) {
        JsonNode v = root.get(name);
        if (v == null || !v.isArray()) throw new IllegalArgumentException(source + ": " + name + " must be a list of integers");
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isInt()) throw new IllegalArgumentException(source + ": " + name + " must hold integers, found " + e);
            out.add(e.asInt());
        }
        return out;
    }

    private static List<String> stringList(JsonNode root, String name, String source) {
        JsonNode v = root.get(name);
        if (v == null || !v.isArray()) throw new IllegalArgumentException(source + ": " + name + " must be a list of block type names");
        List<String> out = new ArrayList<>();
        v.forEach(e -> out.add(e.asText()));
        return out;
    }

    /** The diffusers form of this config (attention_head_dim holds the head counts, as SD's configs do). */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("_class_name", "UNet2DConditionModel");
        o.put("act_fn", "silu");
        o.set("attention_head_dim", intsOrOne(attentionHeads));
        o.set("block_out_channels", ints(blockOutChannels));
        o.put("center_input_sample", false);
        o.put("cross_attention_dim", crossAttentionDim);
        o.set("down_block_types", strings(downBlockTypes));
        o.put("downsample_padding", 1);
        o.put("flip_sin_to_cos", flipSinToCos);
        o.put("freq_shift", freqShift);
        o.put("in_channels", inChannels);
        o.set("layers_per_block", intsOrOne(layersPerBlock));
        o.put("mid_block_scale_factor", 1);
        if (midBlockType == null) o.putNull("mid_block_type"); else o.put("mid_block_type", midBlockType);
        o.put("norm_eps", normEps);
        o.put("norm_num_groups", normNumGroups);
        o.put("out_channels", outChannels);
        o.put("sample_size", sampleSize);
        o.set("transformer_layers_per_block", intsOrOne(transformerLayersPerBlock));
        o.set("up_block_types", strings(upBlockTypes));
        o.put("use_linear_projection", useLinearProjection);
        return o;
    }

    public void writeJson(Path file) {
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write UNet config " + file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode intsOrOne(List<Integer> l) {
        return Set.copyOf(l).size() == 1 ? JSON.getNodeFactory().numberNode(l.get(0)) : ints(l);
    }

    private static ArrayNode ints(List<Integer> l) {
        ArrayNode a = JSON.createArrayNode();
        l.forEach(a::add);
        return a;
    }

    private static ArrayNode strings(List<String> l) {
        ArrayNode a = JSON.createArrayNode();
        l.forEach(a::add);
        return a;
    }
}
