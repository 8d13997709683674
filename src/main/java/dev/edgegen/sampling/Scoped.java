package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.Function;

/** Runs a sampler step's arithmetic in a scope that frees every intermediate. */
final class Scoped {
    private Scoped() {}

    /**
     * Runs {@code body} in a sub-manager of {@code home}'s manager with {@code home} and {@code others}
     * (nulls skipped) temporarily attached to it, so ops with one of them first leave their results
     * there; the returned array is attached to {@code home}'s manager, everything else is freed.
     */
    static NDArray run(NDArray home, Function<NDManager, NDArray> body, NDArray... others) {
        NDManager homeManager = home.getManager();
        try (NDManager scope = homeManager.newSubManager()) {
            home.tempAttach(scope);
            for (NDArray a : others) {
                if (a != null && a != home) {
                    a.tempAttach(scope);
                }
            }
            NDArray result = body.apply(scope);
            result.attach(homeManager);
            return result;
        }
    }
}
