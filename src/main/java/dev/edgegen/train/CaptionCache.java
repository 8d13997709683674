package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.edgegen.cli.ProgressBar;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Memoises a frozen text encoder's per-caption output (L, D) in a bounded LRU map, so repeated
 * captions (emoji names, the empty CFG caption) are encoded once. Values are plain float arrays.
 */
public final class CaptionCache {
    private final BiFunction<List<String>, NDManager, NDArray> encoder;
    private final Map<String, float[]> cache;
    private long[] shape; // per caption, e.g. (L, D)

    /** {@code encoder}: captions (B) → (B, ...) in the given manager, e.g. (B, L, D) token states or (B, D) sentence embeddings. */
    public CaptionCache(BiFunction<List<String>, NDManager, NDArray> encoder, int capacity) {
        this.encoder = encoder;
        this.cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, float[]> e) {
                return size() > capacity;
            }
        };
    }

    /**
     * Encodes the {@code captions} not yet cached, {@code batch} at a time with gradient mode off, with a progress bar
     * on {@code progress}: a latent pool's captions before training, so that the first pass over the pool does not
     * run the text encoder inside the steps (there it runs for one worker at a time while the other waits).
     */
    public void warm(List<String> captions, int batch, NDManager manager, PrintStream progress) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        List<String> todo;
        synchronized (this) {
            todo = new ArrayList<>(new LinkedHashSet<>(captions));
            todo.removeIf(cache::containsKey);
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (ProgressBar bar = new ProgressBar(progress, "encode captions", todo.size())) {
            for (int from = 0; from < todo.size(); from += batch) {
                int to = Math.min(todo.size(), from + batch);
                try (NDManager scope = manager.newSubManager()) {
                    encode(todo.subList(from, to), scope);
                }
                bar.step(to, "");
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** captions (B) → (B, ...) in {@code manager}. Thread-safe: one caller at a time encodes. */
    public synchronized NDArray encode(List<String> captions, NDManager manager) {
        List<String> missing = new ArrayList<>();
        for (String c : captions) if (!cache.containsKey(c) && !missing.contains(c)) missing.add(c);
        if (!missing.isEmpty()) {
            try (NDManager scope = manager.newSubManager()) {
                NDArray out = encoder.apply(missing, scope);              // (M, L, D)
                shape = java.util.Arrays.copyOfRange(out.getShape().getShape(), 1, out.getShape().dimension());
                float[] all = out.toFloatArray();
                int per = (int) new Shape(shape).size();
                for (int i = 0; i < missing.size(); i++) {
                    float[] one = new float[per];
                    System.arraycopy(all, i * per, one, 0, per);
                    cache.put(missing.get(i), one);
                }
            }
        }
        int per = (int) new Shape(shape).size();
        float[] batch = new float[captions.size() * per];
        for (int i = 0; i < captions.size(); i++) {
            float[] one = cache.get(captions.get(i));
            if (one == null) { // evicted by this very batch (capacity < batch): encode alone
                try (NDManager scope = manager.newSubManager()) {
                    one = encoder.apply(List.of(captions.get(i)), scope).toFloatArray();
                }
            }
            System.arraycopy(one, 0, batch, i * per, per);
        }
        long[] full = new long[shape.length + 1];
        full[0] = captions.size();
        System.arraycopy(shape, 0, full, 1, shape.length);
        return manager.create(batch, new Shape(full));
    }
}
