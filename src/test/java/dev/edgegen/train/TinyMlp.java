package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.tensor.Ops;

/** 4 → 8 → 2 MLP used by the training tests. */
final class TinyMlp extends Module {
    final Linear a = register("a", new Linear(4, 8, true));
    final Linear b = register("b", new Linear(8, 2, true));

    NDArray forward(NDArray x) { // (B, 4) → (B, 2)
        return b.forward(Ops.silu(a.forward(x)));
    }
}
