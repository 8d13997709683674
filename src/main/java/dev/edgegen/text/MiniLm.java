package dev.edgegen.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import dev.edgegen.nn.LayerNorm;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Parameter;
import dev.edgegen.tensor.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT encoder as in all-MiniLM-L6-v2 (Wang et al. 2020, MiniLM; sentence-transformers): token +
 * position + type embeddings, then post-LN transformer layers with exact GELU. Child names follow
 * the Hugging Face {@code BertModel} state dict ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.0.attention.self.query.weight}, ...).
 */
public final class MiniLm extends Module {
    /** Architecture; {@link #allMiniLmL6V2()} is the pretrained one. */
    public record Config(int vocab, int hidden, int layers, int heads, int intermediate, int maxPositions, int typeVocab, float eps) {
        public Config {
            if (hidden % heads != 0) throw new IllegalArgumentException("hidden " + hidden + " not divisible by heads " + heads);
        }

        public static Config allMiniLmL6V2() { return new Config(30522, 384, 6, 12, 1536, 512, 2, 1e-12f); }
    }

    /** A table of vectors looked up by integer id. Key: {@code weight} (V, D). */
    public static final class Embedding extends Module {
        final Parameter weight;

        Embedding(int count, int dim) {
            weight = param("weight", Parameter.Init.NORMAL, count, dim);
        }

        /** ids (B, L) int64 → (B, L, D); the result lives in the ids' manager. */
        NDArray forward(NDArray ids) {
            return ai.djl.nn.core.Embedding.embedding(ids, weight.get(), SparseFormat.DENSE).singletonOrThrow();
        }
    }

    static final class Embeddings extends Module {
        final Embedding word, position, type;
        final LayerNorm norm;

        Embeddings(Config c) {
            word = register("word_embeddings", new Embedding(c.vocab(), c.hidden()));
            position = register("position_embeddings", new Embedding(c.maxPositions(), c.hidden()));
            type = register("token_type_embeddings", new Embedding(c.typeVocab(), c.hidden()));
            norm = register("LayerNorm", new LayerNorm(c.hidden(), c.eps()));
        }
    }

    static final class SelfAttention extends Module {
        final Linear query, key, value;

        SelfAttention(Config c) {
            query = register("query", new Linear(c.hidden(), c.hidden(), true));
            key = register("key", new Linear(c.hidden(), c.hidden(), true));
            value = register("value", new Linear(c.hidden(), c.hidden(), true));
        }
    }

    static final class DenseNorm extends Module {
        final Linear dense;
        final LayerNorm norm;

        DenseNorm(int in, int out, float eps) {
            dense = register("dense", new Linear(in, out, true));
            norm = register("LayerNorm", new LayerNorm(out, eps));
        }

        /** LayerNorm(dense(x) + residual). */
        NDArray forward(NDArray x, NDArray residual) {
            return norm.forward(dense.forward(x).add(residual));
        }
    }

    static final class Attention extends Module {
        final SelfAttention self;
        final DenseNorm output;

        Attention(Config c) {
            self = register("self", new SelfAttention(c));
            output = register("output", new DenseNorm(c.hidden(), c.hidden(), c.eps()));
        }
    }

    static final class Dense extends Module {
        final Linear dense;

        Dense(int in, int out) {
            dense = register("dense", new Linear(in, out, true));
        }
    }

    static final class Layer extends Module {
        final Attention attention;
        final Dense intermediate;
        final DenseNorm output;

        Layer(Config c) {
            attention = register("attention", new Attention(c));
            intermediate = register("intermediate", new Dense(c.hidden(), c.intermediate()));
            output = register("output", new DenseNorm(c.intermediate(), c.hidden(), c.eps()));
        }
    }

    static final class Layers extends Module {
        final List<Layer> list = new ArrayList<>();

        Layers(Config c) {
            for (int i = 0; i < c.layers(); i++) list.add(register(Integer.toString(i), new Layer(c)));
        }
    }

    static final class Encoder extends Module {
        final Layers layer;

        Encoder(Config c) {
            layer = register("layer", new Layers(c));
        }
    }

    public final Config config;
    final Embeddings embeddings;
    final Encoder encoder;

    public MiniLm(Config config) {
        this.config = config;
        embeddings = register("embeddings", new Embeddings(config));
        encoder = register("encoder", new Encoder(config));
    }

    /**
     * ids (B, L) int64, mask (B, L) int64 (1 = token, 0 = padding) → hidden states (B, L, hidden).
     * Padded keys are excluded from attention; padded positions still get (unused) outputs.
     * Arrays are created in the ids' manager.
     */
    public NDArray forward(NDArray ids, NDArray mask) {
        NDManager m = ids.getManager();
        long b = ids.getShape().get(0), l = ids.getShape().get(1);
        if (l > config.maxPositions()) {
            throw new IllegalArgumentException("sequence of " + l + " tokens exceeds the " + config.maxPositions() + " positions of the model");
        }
        NDArray positions = m.arange(0, (int) l, 1, DataType.INT64).reshape(1, l).repeat(0, b);   // (B, L)
        NDArray types = ids.zerosLike();                                                         // (B, L)
        NDArray h = embeddings.word.forward(ids)
                .add(embeddings.type.forward(types))
                .add(embeddings.position.forward(positions));                                    // (B, L, D)
        h = embeddings.norm.forward(h);
        // additive key mask (B, 1, 1, L): 0 for tokens, a large negative for padding
        NDArray keyMask = mask.toType(DataType.FLOAT32, false).sub(1f).mul(1e9f).reshape(b, 1, 1, l);
        int heads = config.heads();
        int d = config.hidden() / heads;
        for (Layer layer : encoder.layer.list) {
            SelfAttention sa = layer.attention.self;
            NDArray q = sa.query.forward(h).reshape(b, l, heads, d).transpose(0, 2, 1, 3);    // (B, H, L, d)
            NDArray k = sa.key.forward(h).reshape(b, l, heads, d).transpose(0, 2, 3, 1);      // (B, H, d, L)
            NDArray v = sa.value.forward(h).reshape(b, l, heads, d).transpose(0, 2, 1, 3);    // (B, H, L, d)
            NDArray scores = q.matMul(k).div((float) Math.sqrt(d)).add(keyMask);                // (B, H, L, L)
            NDArray ctx = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, l, config.hidden());
            h = layer.attention.output.forward(ctx, h);
            NDArray inner = Ops.gelu(layer.intermediate.dense.forward(h));                     // (B, L, 4D)
            h = layer.output.forward(inner, h);
        }
        return h;
    }
}
