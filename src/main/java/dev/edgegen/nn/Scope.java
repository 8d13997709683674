package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.Supplier;

/**
 * Runs a block's forward in a sub-scope of its input's manager so every intermediate is freed when
 * the block returns. Inputs are temporarily attached to the scope (ops attach results to their first
 * operand's manager, so intermediates land there); the result is moved to the input's manager.
 */
public final class Scope {
    private Scope() {}

    /** x: the activation whose manager owns the result; extras: other inputs (null entries ignored). */
    public static NDArray run(NDArray x, Supplier<NDArray> body, NDArray... extras) {
        NDManager parent = x.getManager();
        try (NDManager sub = parent.newSubManager()) {
            x.tempAttach(sub);
            for (NDArray e : extras) {
                if (e != null && e != x) {
                    e.tempAttach(sub);
                }
            }
            NDArray y = body.get();
            y.attach(parent);
            return y;
        }
    }
}
