package dev.edgegen.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Prepares batches on worker threads ahead of the training step. Sample k (global position) is
 * {@code dataset.get(k, Random(seed, k))}, so batches are identical whatever the thread timing,
 * and {@link #seek} to a saved {@link #position()} resumes the exact data order.
 */
public final class DataLoader implements AutoCloseable {
    private final Dataset dataset;
    private final int batchSize;
    private final long seed;
    private final int prefetch;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Sample>> queue = new ArrayDeque<>();
    private long position;     // next sample to hand out
    private long submitted;    // next sample to submit

    public DataLoader(Dataset dataset, int batchSize, int threads, long seed) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        if (threads <= 0) throw new IllegalArgumentException("threads must be > 0, got " + threads);
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.seed = seed;
        this.prefetch = 2 * batchSize;
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "edgegen-data");
            t.setDaemon(true);
            return t;
        });
    }

    /** Samples handed out so far (save this in checkpoints). */
    public synchronized long position() { return position; }

    /** Continues from sample {@code pos}; pending work is discarded. */
    public synchronized void seek(long pos) {
        if (pos < 0) throw new IllegalArgumentException("position must be >= 0, got " + pos);
        queue.forEach(f -> f.cancel(true));
        queue.clear();
        position = pos;
        submitted = pos;
    }

    /** The next batch of {@code batchSize} samples, in position order. */
    public synchronized Batch next() {
        fill();
        float[] pixels = null;
        List<String> captions = new ArrayList<>(batchSize);
        List<Scene> scenes = new ArrayList<>(batchSize);
        int per = 0;
        for (int i = 0; i < batchSize; i++) {
            Sample s;
            try {
                s = queue.removeFirst().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while loading data", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("loading sample " + (position + i) + " failed: " + e.getCause().getMessage(), e.getCause());
            }
            if (pixels == null) {
                per = s.pixels().length;
                pixels = new float[per * batchSize];
            } else if (s.pixels().length != per) {
                throw new IllegalStateException("sample " + (position + i) + " has " + s.pixels().length + " values, the batch has " + per);
            }
            System.arraycopy(s.pixels(), 0, pixels, i * per, per);
            captions.add(s.caption());
            scenes.add(s.scene());
        }
        position += batchSize;
        fill();
        int side = (int) Math.round(Math.sqrt(per / 3.0));
        return new Batch(pixels, batchSize, side, side, captions, scenes);
    }

    private void fill() {
        while (submitted - position < prefetch + batchSize && queue.size() < prefetch + batchSize) {
            long k = submitted++;
            queue.addLast(pool.submit(() -> dataset.get(k, sampleRandom(seed, k))));
        }
    }

    /** The random generator of sample {@code k}. */
    public static Random sampleRandom(long seed, long k) {
        return new Random(SyntheticScenes.mix(seed ^ 0x7F4A7C15L, k));
    }

    @Override
    public synchronized void close() {
        queue.forEach(f -> f.cancel(true));
        queue.clear();
        pool.shutdownNow();
    }
}
