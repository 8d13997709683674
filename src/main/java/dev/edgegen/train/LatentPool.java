package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.edgegen.cli.ProgressBar;
import dev.edgegen.data.Batch;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * A UNet stage's training set encoded once ({@code "data": {"pool": N}}): N samples drawn from the loader, their
 * images turned into latents by the frozen autoencoder up front, then served in a shuffled order, a new permutation
 * every pass. Encoding a 64x64 image costs about as much as the UNet's forward pass on it (docs/training.md, "Speed
 * of a step"), so a run that draws each sample several times saves most of that; it trades fresh synthetic scenes
 * for repeated ones. The posterior is sampled once per sample (with the recipe's {@code posterior_noise} 0 that is
 * its mean). Position p of the order is sample {@code perm_e(p mod N)}, e = p / N, with perm_e a function of the seed
 * and e only, so {@link #seek} resumes the exact order.
 */
public final class LatentPool {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "pool_key";
    private final float[] latents;   // (N, C, h, w) row-major
    private final String[] captions; // (N)
    private final Scene[] scenes;    // (N), null for samples without one (emoji)
    private final long[] shape;      // (C, h, w)
    private final int per;
    private final int batchSize;
    private final long seed;
    private long position;
    private long permEpoch = -1;
    private int[] perm;

    private LatentPool(float[] latents, String[] captions, Scene[] scenes, long[] shape, int batchSize, long seed) {
        this.latents = latents;
        this.captions = captions;
        this.scenes = scenes;
        this.shape = shape;
        this.per = (int) new Shape(shape).size();
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /**
     * Draws {@code size} samples from {@code loader} (from its current position) and encodes them with
     * {@code encoder} in {@code manager}, with a progress bar on {@code progress}; gradient mode is off meanwhile.
     */
    public static LatentPool encode(DataLoader loader, int size, DiffusionTask.LatentEncoder encoder, NDManager manager,
                                    long seed, int batchSize, PrintStream progress) {
        if (size <= 0) throw new IllegalArgumentException("data.pool must be > 0, got " + size);
        float[] values = null;
        long[] shape = null;
        String[] captions = new String[size];
        Scene[] scenes = new Scene[size];
        Random rng = new Random(SyntheticScenes.mix(seed, 0x9E3779B97F4A7C15L));
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (ProgressBar bar = new ProgressBar(progress, "encode pool", size)) {
            int done = 0;
            while (done < size) {
                Batch batch = loader.next();
                int take = Math.min(batch.size(), size - done);
                try (NDManager scope = manager.newSubManager()) {
                    NDArray z = encoder.encode(batch.slice(0, take).images(scope), rng);        // (take, C, h, w)
                    if (shape == null) {
                        shape = Arrays.copyOfRange(z.getShape().getShape(), 1, 4);
                        long total = (long) size * new Shape(shape).size();
                        if (total > Integer.MAX_VALUE - 8) {
                            throw new IllegalArgumentException("data.pool of " + size + " samples of " + new Shape(shape)
                                    + " latents does not fit one array; use at most " + (Integer.MAX_VALUE - 8) / new Shape(shape).size());
                        }
                        values = new float[(int) total];
                    }
                    float[] v = z.toFloatArray();
                    System.arraycopy(v, 0, values, done * (v.length / take), v.length);
                }
                for (int i = 0; i < take; i++) {
                    captions[done + i] = batch.captions().get(i);
                    scenes[done + i] = batch.scenes() == null ? null : batch.scenes().get(i);
                }
                done += take;
                bar.step(done, "");
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return new LatentPool(values, captions, scenes, shape, batchSize, seed);
    }

    /**
     * Writes the pool (latents, captions, scenes) to {@code file}, atomically, tagged with {@code key}: a digest of
     * what it was made from, which {@link #load} compares. A resumed stage reads it back instead of encoding again.
     */
    public void save(Path file, String key, NDManager manager) throws IOException {
        try (NDManager scope = manager.newSubManager()) {
            NDArray z = scope.create(latents, new Shape(size(), shape[0], shape[1], shape[2]));
            TensorArchive.write(file, Map.of("latents", z), Map.of(KEY, key,
                    "captions", JSON.writeValueAsString(captions), "scenes", JSON.writeValueAsString(scenes)));
        }
    }

    /**
     * The pool saved in {@code file} by {@link #save} with the same {@code key}, served with {@code seed} and
     * {@code batchSize} as {@link #encode} would; empty when there is no file or it was made from something else.
     * A damaged file throws (TensorArchive's message names it).
     */
    public static Optional<LatentPool> load(Path file, String key, NDManager manager, long seed, int batchSize) throws IOException {
        if (!Files.isRegularFile(file)) return Optional.empty();
        try (NDManager scope = manager.newSubManager()) {
            TensorArchive.Contents c = TensorArchive.read(file, scope);
            if (!key.equals(c.metadata().get(KEY))) return Optional.empty();
            NDArray z = c.tensors().get("latents");                                            // (N, C, h, w)
            String[] caps = JSON.readValue(c.metadata().get("captions"), String[].class);
            Scene[] sc = JSON.readValue(c.metadata().get("scenes"), Scene[].class);
            if (z == null || z.getShape().dimension() != 4 || z.getShape().get(0) != caps.length || sc.length != caps.length) {
                throw new IOException(file + " is not a latent pool (latents, captions and scenes must agree)");
            }
            long[] shape = Arrays.copyOfRange(z.getShape().getShape(), 1, 4);
            return Optional.of(new LatentPool(z.toFloatArray(), caps, sc, shape, batchSize, seed));
        }
    }

    public int size() { return captions.length; }

    /** The samples' captions, in pool order (read-only). */
    public List<String> captions() { return Collections.unmodifiableList(Arrays.asList(captions)); }

    /** The samples' scenes (null entries: not synthetic), in pool order (read-only). */
    public List<Scene> scenes() { return Collections.unmodifiableList(Arrays.asList(scenes)); }

    /** Samples handed out so far. */
    public synchronized long position() { return position; }

    public synchronized void seek(long pos) {
        if (pos < 0) throw new IllegalArgumentException("position must be >= 0, got " + pos);
        position = pos;
    }

    /** The next batch: latents (B, C, h, w), captions and scenes. */
    public synchronized Draw next() {
        float[] out = new float[batchSize * per];
        List<String> caps = new ArrayList<>(batchSize);
        List<Scene> sc = new ArrayList<>(batchSize);
        for (int i = 0; i < batchSize; i++) {
            int k = index(position++);
            System.arraycopy(latents, k * per, out, i * per, per);
            caps.add(captions[k]);
            sc.add(scenes[k]);
        }
        return new Draw(out, batchSize, shape, caps, sc);
    }

    /** The pool sample at order position {@code p}. */
    int index(long p) {
        int n = captions.length;
        long epoch = p / n;
        if (epoch != permEpoch) {
            perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            Random r = new Random(SyntheticScenes.mix(seed ^ 0x5DEECE66DL, epoch));
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            permEpoch = epoch;
        }
        return perm[(int) (p % n)];
    }

    /** A batch from the pool: {@code latents} (size, C, h, w) row-major, their captions and scenes (null entries: none). */
    public record Draw(float[] latents, int size, long[] shape, List<String> captions, List<Scene> scenes)
            implements DiffusionTask.Draw {
        /** Samples [from, to) as a (to − from, C, h, w) array in {@code manager}; already encoded, so {@code rng} is unused. */
        @Override
        public NDArray latents(NDManager manager, int from, int to, Random rng) {
            int per = latents.length / size;
            return manager.create(Arrays.copyOfRange(latents, from * per, to * per), new Shape(to - from, shape[0], shape[1], shape[2]));
        }
    }
}
