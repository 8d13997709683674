package dev.edgegen.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.text.ClipTextModel;
import dev.edgegen.text.ClipTokenizer;
import java.util.List;

/** CLIP tokenizer + CLIP text model: Stable Diffusion's text side. */
public final class ClipTextEncoder implements TextEncoder {
    private final ClipTokenizer tokenizer;
    private final ClipTextModel model;

    public ClipTextEncoder(ClipTokenizer tokenizer, ClipTextModel model) {
        this.tokenizer = tokenizer;
        this.model = model;
    }

    @Override
    public Tokenized tokenize(String prompt) {
        ClipTokenizer.Tokens t = tokenizer.encode(prompt);
        return new Tokenized(t.ids(), t.length(), t.truncated());
    }

    @Override
    public NDArray encode(List<String> prompts, NDManager manager) {
        int len = tokenizer.maxLength();
        int[] ids = new int[prompts.size() * len];
        for (int i = 0; i < prompts.size(); i++) {
            System.arraycopy(tokenizer.encode(prompts.get(i)).ids(), 0, ids, i * len, len);
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray idArray = scope.create(ids, new Shape(prompts.size(), len));
            NDArray out = model.forward(idArray); // (B, 77, D)
            out.attach(manager);
            return out;
        }
    }

    @Override
    public int hiddenSize() {
        return model.config.hiddenSize();
    }

    @Override
    public long parameterCount() {
        return model.parameterCount();
    }
}
