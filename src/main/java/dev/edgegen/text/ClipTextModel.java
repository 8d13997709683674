package dev.edgegen.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.edgegen.nn.Embedding;
import dev.edgegen.nn.LayerNorm;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.tensor.Attention;
import dev.edgegen.tensor.Ops;

/**
 * CLIP text transformer (Radford et al. 2021) with Hugging Face {@code CLIPTextModel} key names:
 * token + position embeddings, pre-LayerNorm causal self-attention blocks, final LayerNorm. Its
 * last hidden state (B, 77, D) is the UNet's cross-attention context.
 */
public final class ClipTextModel extends Module {
    public final ClipTextConfig config;
    private final TextTransformer textModel;

    public ClipTextModel(ClipTextConfig config) {
        this.config = config;
        this.textModel = register("text_model", new TextTransformer(config));
    }

    /** ids (B, N) integer, N ≤ max_position_embeddings → last_hidden_state (B, N, D) float32. */
    public NDArray forward(NDArray ids) {
        return forward(ids, 0);
    }

    /**
     * Like {@link #forward(NDArray)} but stops {@code skipLast} layers early and applies the final
     * LayerNorm to that layer's output (diffusers' {@code clip_skip}; 1 = penultimate layer, what
     * other UIs call "clip skip 2"). The result is attached to the ids' manager.
     */
    public NDArray forward(NDArray ids, int skipLast) {
        validate(ids, skipLast);
        NDManager parent = ids.getManager();
        try (NDManager scope = parent.newSubManager()) {
            ids.tempAttach(scope);
            checkRange(ids);
            NDArray out = textModel.forward(ids, config.numHiddenLayers() - skipLast);
            out.attach(parent);
            return out;
        }
    }

    private void validate(NDArray ids, int skipLast) {
        if (ids.getShape().dimension() != 2) {
            throw new IllegalArgumentException("token ids must be (batch, length), got shape " + ids.getShape());
        }
        long n = ids.getShape().get(1);
        if (n < 1 || n > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("token sequence length " + n + " must be in 1.." + config.maxPositionEmbeddings());
        }
        DataType t = ids.getDataType();
        if (t != DataType.INT32 && t != DataType.INT64) {
            throw new IllegalArgumentException("token ids must be int32 or int64, got " + t);
        }
        if (skipLast < 0 || skipLast >= config.numHiddenLayers()) {
            throw new IllegalArgumentException("clip skip " + skipLast + " must be in 0.." + (config.numHiddenLayers() - 1));
        }
    }

    /** ids must already be in the forward scope: min and max land in the ids' manager. */
    private void checkRange(NDArray ids) {
        long min = ids.min().toType(DataType.INT64, false).getLong();
        long max = ids.max().toType(DataType.INT64, false).getLong();
        if (min < 0 || max >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + (min < 0 ? min : max) + " is outside 0.." + (config.vocabSize() - 1)
                    + ": the tokenizer does not match this text encoder's vocab_size");
        }
    }

    /** {@code text_model}: embeddings, encoder, final_layer_norm. */
    static final class TextTransformer extends Module {
        final Embeddings embeddings;
        final Encoder encoder;
        final LayerNorm finalLayerNorm;

        TextTransformer(ClipTextConfig c) {
            embeddings = register("embeddings", new Embeddings(c));
            encoder = register("encoder", new Encoder(c));
            finalLayerNorm = register("final_layer_norm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        }

        /** ids (B, N) → final LayerNorm of the output of the first {@code layers} layers (B, N, D). */
        NDArray forward(NDArray ids, int layers) {
            NDArray x = embeddings.forward(ids);                           // (B, N, D)
            for (int i = 0; i < layers; i++) {
                x = encoder.layers[i].forward(x);
            }
            return finalLayerNorm.forward(x);
        }
    }

    /** {@code embeddings}: token_embedding (V, D), position_embedding (P, D). */
    static final class Embeddings extends Module {
        final Embedding tokenEmbedding;
        final Embedding positionEmbedding;

        Embeddings(ClipTextConfig c) {
            tokenEmbedding = register("token_embedding", new Embedding(c.vocabSize(), c.hiddenSize()));
            positionEmbedding = register("position_embedding", new Embedding(c.maxPositionEmbeddings(), c.hiddenSize()));
        }

        NDArray forward(NDArray ids) {
            long n = ids.getShape().get(1);
            NDArray positions = ids.getManager().arange(0, (int) n, 1, DataType.INT64); // (N)
            return tokenEmbedding.forward(ids).addi(positionEmbedding.forward(positions)); // (B, N, D)
        }
    }

    /** {@code encoder}: {@code layers.0} … {@code layers.{L-1}}. */
    static final class Encoder extends Module {
        final EncoderLayer[] layers;

        Encoder(ClipTextConfig c) {
            Layers list = register("layers", new Layers());
            layers = new EncoderLayer[c.numHiddenLayers()];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = list.add(i, new EncoderLayer(c));
            }
        }
    }

    /** Numbered children, as a PyTorch ModuleList. */
    static final class Layers extends Module {
        EncoderLayer add(int i, EncoderLayer layer) {
            return register(Integer.toString(i), layer);
        }
    }

    /** Pre-LN block: x + attn(ln1(x)), then x + mlp(ln2(x)). */
    static final class EncoderLayer extends Module {
        final SelfAttention selfAttn;
        final LayerNorm layerNorm1;
        final Mlp mlp;
        final LayerNorm layerNorm2;

        EncoderLayer(ClipTextConfig c) {
            selfAttn = register("self_attn", new SelfAttention(c));
            layerNorm1 = register("layer_norm1", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
            mlp = register("mlp", new Mlp(c));
            layerNorm2 = register("layer_norm2", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        }

        NDArray forward(NDArray x) {                                      // (B, N, D)
            NDArray h = selfAttn.forward(layerNorm1.forward(x));
            x = x.add(h);
            h.close();
            h = mlp.forward(layerNorm2.forward(x));
            NDArray y = x.add(h);
            h.close();
            return y;
        }
    }

    /** Causal multi-head self-attention: q_proj, k_proj, v_proj, out_proj (D → D, with bias). */
    static final class SelfAttention extends Module {
        final Linear qProj;
        final Linear kProj;
        final Linear vProj;
        final Linear outProj;
        final int heads;

        SelfAttention(ClipTextConfig c) {
            int d = c.hiddenSize();
            kProj = register("k_proj", new Linear(d, d, true));
            vProj = register("v_proj", new Linear(d, d, true));
            qProj = register("q_proj", new Linear(d, d, true));
            outProj = register("out_proj", new Linear(d, d, true));
            heads = c.numAttentionHeads();
        }

        NDArray forward(NDArray x) {                                      // (B, N, D)
            NDArray q = qProj.forward(x);
            NDArray k = kProj.forward(x);
            NDArray v = vProj.forward(x);
            NDArray a = Attention.forward(q, k, v, heads, true);          // (B, N, D)
            return outProj.forward(a);
        }
    }

    /** fc1 (D → I), activation, fc2 (I → D). */
    static final class Mlp extends Module {
        final Linear fc1;
        final Linear fc2;
        final ClipTextConfig.Activation act;

        Mlp(ClipTextConfig c) {
            fc1 = register("fc1", new Linear(c.hiddenSize(), c.intermediateSize(), true));
            fc2 = register("fc2", new Linear(c.intermediateSize(), c.hiddenSize(), true));
            act = c.hiddenAct();
        }

        NDArray forward(NDArray x) {                                      // (B, N, D)
            NDArray h = fc1.forward(x);                                   // (B, N, I)
            h = act == ClipTextConfig.Activation.QUICK_GELU ? Ops.quickGelu(h) : Ops.gelu(h);
            return fc2.forward(h);
        }
    }
}
