package dev.edgegen.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.text.MiniLmTextEncoder;
import java.util.List;

/**
 * The frozen all-MiniLM-L6-v2 encoder (weights from its Maven artifact) as the text side of
 * EdgeGen's own models: per-token hidden states are the cross-attention context, prompts padded
 * or cut to the token count the model was trained with.
 */
public final class MiniLmEncoder implements TextEncoder {
    private final MiniLmTextEncoder encoder;

    public MiniLmEncoder(MiniLmTextEncoder encoder) {
        this.encoder = encoder;
    }

    @Override
    public Tokenized tokenize(String prompt) {
        MiniLmTextEncoder.Tokens t = encoder.tokenizeOne(prompt);
        return new Tokenized(t.ids(), t.count(), t.truncated());
    }

    @Override
    public NDArray encode(List<String> prompts, NDManager manager) {
        MiniLmTextEncoder.Output o = encoder.encode(prompts, manager);
        o.mask().close();
        return o.hidden();                                                  // (B, maxTokens, 384)
    }

    @Override
    public int hiddenSize() { return MiniLmTextEncoder.HIDDEN; }

    @Override
    public long parameterCount() { return encoder.model().parameterCount(); }
}
