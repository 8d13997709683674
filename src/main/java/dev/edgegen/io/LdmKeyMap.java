package dev.edgegen.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Names of a single-file original Stable Diffusion 1.x (LDM) checkpoint in diffusers terms: the
 * state dict is split into UNet, VAE and CLIP text encoder maps named as the diffusers models
 * (and our modules) name them. The block layout (layers per block, stages with attention, number
 * of VAE up blocks) is read from the keys themselves. Naming facts follow diffusers'
 * {@code convert_from_ckpt.py}.
 *
 * <p>LDM UNet: {@code input_blocks.0.0} is conv_in; {@code input_blocks.i} (i ≥ 1) is layer
 * {@code (i-1) % (L+1)} of down stage {@code (i-1) / (L+1)}, where layer L is the downsampler
 * ({@code .0.op}); {@code output_blocks.i} is layer {@code i % (L+1)} of up stage {@code i / (L+1)}
 * with sub-module 0 a resnet, then an attention and/or the upsampler ({@code .conv}).
 * LDM VAE decoder blocks are stored in reverse: {@code up.i} is {@code up_blocks.(n-1-i)}.
 */
public final class LdmKeyMap {
    private LdmKeyMap() {}

    public enum Part { UNET, VAE, TEXT_ENCODER }

    /**
     * Where one LDM tensor goes. {@code convToLinear}: a 1x1 convolution weight (C, C, 1, 1) that
     * the diffusers model holds as a Linear weight (C, C).
     */
    public record Target(Part part, String name, boolean convToLinear) {}

    /** Source key (in the checkpoint) → target, plus the keys that are not converted (EMA copies, schedule buffers, position_ids). */
    public record Plan(Map<String, Target> targets, List<String> ignored) {}

    /** The three diffusers-named state dicts, and the checkpoint keys left out. */
    public record Split(Map<String, NDArray> unet, Map<String, NDArray> vae, Map<String, NDArray> textEncoder, List<String> ignored) {}

    static final String UNET = "model.diffusion_model.";
    static final String VAE = "first_stage_model.";
    static final String TEXT = "cond_stage_model.transformer.";
    private static final String EMA = "model_ema.";

    /** Plans the conversion of {@code keys} using the regular (non-EMA) UNet weights. */
    public static Plan plan(Collection<String> keys) {
        return plan(keys, false);
    }

    /**
     * Plans the conversion of {@code keys}. With {@code useEma} and EMA weights present
     * ({@code model_ema.diffusion_model<key without dots>}), the UNet tensors are read from those.
     */
    public static Plan plan(Collection<String> keys, boolean useEma) {
        Set<String> all = new TreeSet<>(keys);
        UnetLayout layout = UnetLayout.infer(all);
        int vaeUpBlocks = countIndices(all, VAE + "decoder.up.");
        Map<String, Target> targets = new LinkedHashMap<>();
        Map<String, String> claimedBy = new HashMap<>();
        List<String> ignored = new ArrayList<>();
        Set<String> emaUsed = new TreeSet<>();
        for (String k : all) {
            Target t;
            String source = k;
            if (k.startsWith(UNET)) {
                t = new Target(Part.UNET, unetName(k, k.substring(UNET.length()), layout), false);
                String ema = EMA + k.substring("model.".length()).replace(".", "");
                if (useEma && all.contains(ema)) {
                    source = ema;
                    emaUsed.add(ema);
                    ignored.add(k);
                }
            } else if (k.startsWith(VAE)) {
                t = vaeTarget(k, k.substring(VAE.length()), vaeUpBlocks);
            } else if (k.startsWith(TEXT)) {
                t = textTarget(k.substring(TEXT.length()));
            } else if (k.startsWith("cond_stage_model.")) {
                throw new WeightsException("unsupported text encoder key '" + k
                        + "': only SD 1.x checkpoints (CLIP under cond_stage_model.transformer.) can be converted");
            } else {
                t = null;
            }
            if (t == null) {
                ignored.add(k);
                continue;
            }
            String id = t.part + ":" + t.name;
            String prev = claimedBy.put(id, k);
            if (prev != null) {
                throw new WeightsException("keys '" + prev + "' and '" + k + "' both map to " + t.part + " '" + t.name + "'");
            }
            targets.put(source, t);
        }
        ignored.removeAll(emaUsed);
        return new Plan(Collections.unmodifiableMap(targets), List.copyOf(ignored));
    }

    /** Splits an LDM state dict; arrays move into the result (1x1-conv attention weights are reshaped). */
    public static Split split(Map<String, NDArray> ldm) {
        return split(ldm, false);
    }

    public static Split split(Map<String, NDArray> ldm, boolean useEma) {
        Plan plan = plan(ldm.keySet(), useEma);
        return assemble(plan, k -> ldm.get(k));
    }

    /** Loads only the tensors that are converted from {@code file} into {@code manager}. */
    public static Split split(SafetensorsFile file, NDManager manager) {
        return split(file, manager, false);
    }

    public static Split split(SafetensorsFile file, NDManager manager, boolean useEma) {
        Plan plan = plan(file.keys(), useEma);
        return assemble(plan, k -> file.load(k, manager));
    }

    private static Split assemble(Plan plan, java.util.function.Function<String, NDArray> source) {
        Map<String, NDArray> unet = new LinkedHashMap<>();
        Map<String, NDArray> vae = new LinkedHashMap<>();
        Map<String, NDArray> text = new LinkedHashMap<>();
        for (var e : plan.targets().entrySet()) {
            Target t = e.getValue();
            NDArray a = source.apply(e.getKey());
            if (t.convToLinear) a = toLinearWeight(e.getKey(), a);
            (t.part == Part.UNET ? unet : t.part == Part.VAE ? vae : text).put(t.name, a);
        }
        return new Split(unet, vae, text, plan.ignored());
    }

    /** (C_out, C_in, 1, 1) or (C_out, C_in, 1) → (C_out, C_in); a 2-D weight is returned as is. */
    static NDArray toLinearWeight(String key, NDArray a) {
        Shape s = a.getShape();
        if (s.dimension() == 2) return a;
        for (int i = 2; i < s.dimension(); i++) {
            if (s.get(i) != 1) {
                throw new WeightsException("'" + key + "' has shape " + s + "; expected a 1x1 convolution weight (C, C, 1, 1)");
            }
        }
        return a.reshape(s.get(0), s.get(1));
    }

    // ---------------------------------------------------------------- UNet

    /** Layers per block L, inferred from where the first downsampler sits. */
    private record UnetLayout(int layersPerBlock, int stages) {
        static UnetLayout infer(Set<String> keys) {
            int maxIn = -1;
            int firstOp = Integer.MAX_VALUE;
            int maxOut = -1;
            for (String k : keys) {
                if (!k.startsWith(UNET)) continue;
                String[] s = k.substring(UNET.length()).split("\\.");
                if (s.length < 3) continue;
                if (s[0].equals("input_blocks")) {
                    int i = parseIndex(k, s[1]);
                    maxIn = Math.max(maxIn, i);
                    if (s[2].equals("0") && s.length > 3 && s[3].equals("op")) firstOp = Math.min(firstOp, i);
                } else if (s[0].equals("output_blocks")) {
                    maxOut = Math.max(maxOut, parseIndex(k, s[1]));
                }
            }
            if (maxIn < 0) return new UnetLayout(0, 0);
            int lpb = firstOp == Integer.MAX_VALUE ? maxIn : firstOp - 1;
            if (lpb < 1 || maxIn % (lpb + 1) != lpb) {
                throw new WeightsException("cannot infer the UNet layout: " + (maxIn + 1) + " input blocks with the first downsampler at "
                        + (firstOp == Integer.MAX_VALUE ? "none" : "input_blocks." + firstOp));
            }
            int stages = (maxIn + 1) / (lpb + 1);
            if (maxOut + 1 != stages * (lpb + 1)) {
                throw new WeightsException("inconsistent UNet layout: " + stages + " down stages of " + lpb + " layers need "
                        + stages * (lpb + 1) + " output blocks, found " + (maxOut + 1));
            }
            return new UnetLayout(lpb, stages);
        }
    }

    private static String unetName(String key, String k, UnetLayout layout) {
        String[] s = k.split("\\.");
        switch (s[0]) {
            case "time_embed" -> {
                if (s.length == 3 && (s[1].equals("0") || s[1].equals("2"))) {
                    return "time_embedding.linear_" + (s[1].equals("0") ? 1 : 2) + "." + s[2];
                }
            }
            case "out" -> {
                if (s.length == 3 && (s[1].equals("0") || s[1].equals("2"))) {
                    return (s[1].equals("0") ? "conv_norm_out." : "conv_out.") + s[2];
                }
            }
            case "input_blocks" -> {
                if (s.length < 4) break;
                int i = parseIndex(key, s[1]);
                int j = parseIndex(key, s[2]);
                String rest = join(s, 3);
                if (i == 0) {
                    if (j == 0 && s.length == 4) return "conv_in." + rest;
                    break;
                }
                int stage = (i - 1) / (layout.layersPerBlock + 1);
                int layer = (i - 1) % (layout.layersPerBlock + 1);
                String block = "down_blocks." + stage + ".";
                if (s[3].equals("op")) {
                    if (j == 0 && layer == layout.layersPerBlock) return block + "downsamplers.0.conv." + join(s, 4);
                    break;
                }
                if (layer == layout.layersPerBlock) break;
                if (j == 0) return block + "resnets." + layer + "." + resnetRest(key, rest);
                if (j == 1) return block + "attentions." + layer + "." + attentionRest(key, rest);
            }
            case "middle_block" -> {
                if (s.length < 4) break;
                String rest = join(s, 2);
                switch (s[1]) {
                    case "0" -> { return "mid_block.resnets.0." + resnetRest(key, rest); }
                    case "1" -> { return "mid_block.attentions.0." + attentionRest(key, rest); }
                    case "2" -> { return "mid_block.resnets.1." + resnetRest(key, rest); }
                    default -> { }
                }
            }
            case "output_blocks" -> {
                if (s.length < 4) break;
                int i = parseIndex(key, s[1]);
                int j = parseIndex(key, s[2]);
                int stage = i / (layout.layersPerBlock + 1);
                int layer = i % (layout.layersPerBlock + 1);
                String block = "up_blocks." + stage + ".";
                String rest = join(s, 3);
                if (s[3].equals("conv")) {
                    if (j >= 1) return block + "upsamplers.0.conv." + join(s, 4);
                    break;
                }
                if (j == 0) return block + "resnets." + layer + "." + resnetRest(key, rest);
                if (j == 1) return block + "attentions." + layer + "." + attentionRest(key, rest);
            }
            default -> { }
        }
        throw new WeightsException("unrecognised UNet key '" + key + "': not a Stable Diffusion 1.x UNet (class/label embeddings "
                + "of SD 2.x unCLIP and SDXL, and ControlNet layouts, are not supported)");
    }

    private static final Map<String, String> RESNET = Map.of(
            "in_layers.0", "norm1", "in_layers.2", "conv1", "emb_layers.1", "time_emb_proj",
            "out_layers.0", "norm2", "out_layers.3", "conv2");

    private static String resnetRest(String key, String rest) {
        if (rest.startsWith("skip_connection.")) return "conv_shortcut." + rest.substring("skip_connection.".length());
        int dot = rest.indexOf('.', rest.indexOf('.') + 1);
        if (dot > 0) {
            String to = RESNET.get(rest.substring(0, dot));
            if (to != null) return to + rest.substring(dot);
        }
        throw new WeightsException("unrecognised resnet tensor in '" + key + "'");
    }

    private static String attentionRest(String key, String rest) {
        String first = rest.substring(0, rest.indexOf('.') < 0 ? rest.length() : rest.indexOf('.'));
        if (Set.of("norm", "proj_in", "proj_out", "transformer_blocks").contains(first)) return rest;
        throw new WeightsException("unrecognised attention tensor in '" + key + "'");
    }

    // ---------------------------------------------------------------- VAE

    private static Target vaeTarget(String key, String k, int upBlocks) {
        String[] s = k.split("\\.");
        if (s[0].equals("loss")) return null;
        if ((s[0].equals("quant_conv") || s[0].equals("post_quant_conv")) && s.length == 2) return vae(k, false);
        if ((s[0].equals("encoder") || s[0].equals("decoder")) && s.length >= 3) {
            String side = s[0] + ".";
            switch (s[1]) {
                case "conv_in", "conv_out" -> {
                    if (s.length == 3) return vae(k, false);
                }
                case "norm_out" -> {
                    if (s.length == 3) return vae(side + "conv_norm_out." + s[2], false);
                }
                case "mid" -> {
                    String rest = join(s, 3);
                    switch (s[2]) {
                        case "block_1" -> { return vae(side + "mid_block.resnets.0." + vaeResnetRest(key, rest), false); }
                        case "block_2" -> { return vae(side + "mid_block.resnets.1." + vaeResnetRest(key, rest), false); }
                        case "attn_1" -> {
                            String to = VAE_ATTN.get(s.length == 5 ? s[3] : "");
                            if (to != null) {
                                return vae(side + "mid_block.attentions.0." + to + "." + s[4],
                                        s[4].equals("weight") && !to.equals("group_norm"));
                            }
                        }
                        default -> { }
                    }
                }
                case "down", "up" -> {
                    boolean down = s[1].equals("down");
                    if (down != s[0].equals("encoder") || s.length < 5) break;
                    int i = parseIndex(key, s[2]);
                    int block = down ? i : upBlocks - 1 - i;
                    String prefix = side + (down ? "down_blocks." : "up_blocks.") + block + ".";
                    if (s[3].equals("block") && s.length >= 6) {
                        return vae(prefix + "resnets." + parseIndex(key, s[4]) + "." + vaeResnetRest(key, join(s, 5)), false);
                    }
                    if (s[3].equals(down ? "downsample" : "upsample") && s[4].equals("conv") && s.length == 6) {
                        return vae(prefix + (down ? "downsamplers" : "upsamplers") + ".0.conv." + s[5], false);
                    }
                }
                default -> { }
            }
        }
        throw new WeightsException("unrecognised VAE key '" + key + "': not a Stable Diffusion 1.x autoencoder");
    }

    private static Target vae(String name, boolean convToLinear) {
        return new Target(Part.VAE, name, convToLinear);
    }

    private static final Map<String, String> VAE_ATTN = Map.of(
            "norm", "group_norm", "q", "to_q", "k", "to_k", "v", "to_v", "proj_out", "to_out.0");

    private static String vaeResnetRest(String key, String rest) {
        String first = rest.substring(0, Math.max(0, rest.indexOf('.')));
        if (first.equals("nin_shortcut")) return "conv_shortcut" + rest.substring(first.length());
        if (Set.of("norm1", "conv1", "norm2", "conv2").contains(first)) return rest;
        throw new WeightsException("unrecognised VAE resnet tensor in '" + key + "'");
    }

    // ---------------------------------------------------------------- text encoder

    private static Target textTarget(String k) {
        if (k.endsWith("position_ids")) return null;
        return new Target(Part.TEXT_ENCODER, k.startsWith("text_model.") ? k : "text_model." + k, false);
    }

    // ---------------------------------------------------------------- old diffusers VAE names

    private static final Map<String, String> OLD_VAE_ATTN = Map.of(
            "query", "to_q", "key", "to_k", "value", "to_v", "proj_attn", "to_out.0");

    /** Renames an old diffusers VAE attention key ({@code query/key/value/proj_attn} → {@code to_q/to_k/to_v/to_out.0}). */
    public static String normalizeDiffusersVaeKey(String key) {
        String[] s = key.split("\\.");
        if (s.length >= 3 && key.contains("attentions.")) {
            String to = OLD_VAE_ATTN.get(s[s.length - 2]);
            if (to != null) return join(s, 0, s.length - 2) + "." + to + "." + s[s.length - 1];
        }
        return key;
    }

    /**
     * A diffusers VAE state dict in current naming: old attention names renamed, and attention
     * projection weights stored as 1x1 convolutions reshaped to Linear (C, C).
     */
    public static Map<String, NDArray> normalizeDiffusersVae(Map<String, NDArray> vae) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (var e : vae.entrySet()) {
            String name = normalizeDiffusersVaeKey(e.getKey());
            NDArray a = e.getValue();
            if (name.contains("attentions.") && name.matches(".*\\.(to_q|to_k|to_v|to_out\\.0)\\.weight")) {
                a = toLinearWeight(e.getKey(), a);
            }
            if (out.put(name, a) != null) {
                throw new WeightsException("VAE state dict has both old and new names for '" + name + "'");
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- helpers

    private static int countIndices(Set<String> keys, String prefix) {
        int max = -1;
        for (String k : keys) {
            if (k.startsWith(prefix)) {
                String rest = k.substring(prefix.length());
                max = Math.max(max, parseIndex(k, rest.substring(0, Math.max(0, rest.indexOf('.')))));
            }
        }
        return max + 1;
    }

    private static int parseIndex(String key, String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new WeightsException("expected a block index in '" + key + "', found '" + s + "'");
        }
    }

    private static String join(String[] s, int from) {
        return join(s, from, s.length);
    }

    private static String join(String[] s, int from, int to) {
        return String.join(".", java.util.Arrays.asList(s).subList(from, to));
    }
}
