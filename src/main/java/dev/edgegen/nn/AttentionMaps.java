package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * Records the cross-attention probabilities of every {@link CrossAttention} with a context that runs on the current
 * thread while open, for training losses on where each token attends (e.g. {@code train.AttentionLoss}). Recorded
 * layers compute attention unfused (the probabilities are materialised); nothing changes when no recorder is open.
 */
public final class AttentionMaps implements AutoCloseable {
    private static final ThreadLocal<AttentionMaps> ACTIVE = new ThreadLocal<>();

    private final NDManager manager;
    private final List<NDArray> maps = new ArrayList<>();

    private AttentionMaps(NDManager manager) {
        this.manager = manager;
    }

    /** Starts recording on this thread; the maps are kept in {@code manager}. One recorder per thread at a time. */
    public static AttentionMaps record(NDManager manager) {
        if (ACTIVE.get() != null) throw new IllegalStateException("attention maps are already being recorded on this thread");
        AttentionMaps r = new AttentionMaps(manager);
        ACTIVE.set(r);
        return r;
    }

    static AttentionMaps active() { return ACTIVE.get(); }

    /** probs: (B, N, M), the heads' mean of softmax(q kᵀ / √D); kept alive in the recorder's manager. */
    void add(NDArray probs) {
        probs.attach(manager);
        maps.add(probs);
    }

    /** The maps recorded so far, in call order: each (B, N, M), N query positions (h·w), M context tokens. */
    public List<NDArray> maps() { return List.copyOf(maps); }

    @Override
    public void close() { ACTIVE.remove(); }
}
