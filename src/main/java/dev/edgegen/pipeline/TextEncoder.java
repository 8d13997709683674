package dev.edgegen.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;

/** Prompt → cross-attention context. CLIP for Stable Diffusion models, MiniLM for our own. */
public interface TextEncoder {
    /** Token ids as the model's tokenizer makes them (for `edgegen tokenize`). */
    Tokenized tokenize(String prompt);

    /** prompts (B) → context (B, L, D), attached to {@code manager}. */
    NDArray encode(List<String> prompts, NDManager manager);

    /** D, the context width the UNet's cross-attention expects. */
    int hiddenSize();

    long parameterCount();

    /** Token ids of one prompt, padded to the model's length; {@code truncated} if it was too long. */
    record Tokenized(int[] ids, int tokenCount, boolean truncated) {}
}
