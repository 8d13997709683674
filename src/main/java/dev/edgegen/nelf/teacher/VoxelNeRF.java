package dev.edgegen.nelf.teacher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Parameter;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The teacher field (see {@link TeacherConfig}). Keys: {@code grid} (G³, 1 + C) with column 0 the
 * raw density (σ = softplus(raw − 4)) and columns 1.. the colour features, x-fastest voxel order;
 * {@code mlp0.*}, {@code mlp1.*}, {@code mlp2.*} the view-dependent colour MLP.
 *
 * <p>Sampling runs on the Java side (box clipping, occupancy skipping, trilinear corner indices and
 * weights); the differentiable part gathers grid rows with an embedding lookup and composites the
 * variable number of samples per ray with prefix sums (float64) over the flat sample list.
 */
public final class VoxelNeRF extends Module {
    /** Alpha over one voxel above which a voxel counts as occupied, in training and after loading. */
    public static final float OCCUPANCY_ALPHA = 1e-2f;
    private static final float DENSITY_SHIFT = 4f;
    public final TeacherConfig config;
    public final Parameter grid; // (G³, 1 + C)
    private final Linear mlp0;
    private final Linear mlp1;
    private final Linear mlp2;
    private boolean[] occupied; // (G³) or null = everything

    public VoxelNeRF(TeacherConfig config) {
        this.config = config;
        long g = config.grid();
        grid = param("grid", Parameter.Init.ZEROS, g * g * g, 1 + config.features());
        mlp0 = register("mlp0", new Linear(config.features() + config.viewChannels(), config.hidden(), true));
        mlp1 = register("mlp1", new Linear(config.hidden(), config.hidden(), true));
        mlp2 = register("mlp2", new Linear(config.hidden(), 3, true));
    }

    public void initialize(NDManager manager, long seed) {
        initialize(manager, 1f, seed);
        for (Linear l : new Linear[] {mlp0, mlp1}) l.weight.set(l.weight.get().mul((float) Math.sqrt(2.0 / l.in)));
        mlp2.weight.set(mlp2.weight.get().mul(0.01f));
    }

    /** Samples of a batch of rays, flat: sample i belongs to ray r for start[r] <= i < start[r+1]. */
    public record Samples(int rays, int[] start, long[] corners, float[] weights, float[] delta, float[] view) {
        public int count() { return delta.length; }
    }

    /**
     * Samples rays {@code ids} of {@code r}; {@code rng} null = deterministic mid-interval samples,
     * else jittered.
     */
    public Samples sample(Camera.Rays r, int[] ids, SplittableRandom rng) {
        int g = config.grid();
        double b = config.bound(), vox = config.voxelSize();
        int[] start = new int[ids.length + 1];
        GrowableSamples out = new GrowableSamples(ids.length * 16, config.viewChannels());
        float[] o = r.origins(), d = r.directions();
        double[] pe = new double[config.viewChannels()];
        for (int q = 0; q < ids.length; q++) {
            start[q] = out.n;
            int p = ids[q];
            double ox = o[3 * p], oy = o[3 * p + 1], oz = o[3 * p + 2];
            double dx = d[3 * p], dy = d[3 * p + 1], dz = d[3 * p + 2];
            double len = Math.sqrt(dx * dx + dy * dy + dz * dz);
            double t0 = config.near(), t1 = config.far();
            double[] oo = {ox, oy, oz}, dd = {dx, dy, dz};
            for (int a = 0; a < 3; a++) { // slab test against the box
                if (Math.abs(dd[a]) < 1e-12) {
                    if (Math.abs(oo[a]) > b) t1 = -1;
                    continue;
                }
                double ta = (-b - oo[a]) / dd[a], tb = (b - oo[a]) / dd[a];
                t0 = Math.max(t0, Math.min(ta, tb));
                t1 = Math.min(t1, Math.max(ta, tb));
            }
            if (t1 <= t0) continue;
            double dt = config.step() * vox / len;
            viewEncoding(dx / len, dy / len, dz / len, pe);
            double u = rng == null ? 0.5 : rng.nextDouble();
            // samples on a global lattice (near + (j + u) dt) so neighbouring rays agree
            long j0 = (long) Math.ceil((t0 - config.near()) / dt - u);
            for (long j = Math.max(0, j0); ; j++) {
                double t = config.near() + (j + u) * dt;
                if (t >= t1) break;
                double x = (ox + t * dx + b) / vox - 0.5, y = (oy + t * dy + b) / vox - 0.5, z = (oz + t * dz + b) / vox - 0.5;
                int ix = (int) Math.floor(x), iy = (int) Math.floor(y), iz = (int) Math.floor(z);
                if (occupied != null && !occupied[clamp(ix + (x - ix >= 0.5 ? 1 : 0), g) + g * (clamp(iy + (y - iy >= 0.5 ? 1 : 0), g) + g * clamp(iz + (z - iz >= 0.5 ? 1 : 0), g))]) {
                    continue;
                }
                out.add(ix, iy, iz, x - ix, y - iy, z - iz, g, (float) (dt * len), pe);
            }
        }
        start[ids.length] = out.n;
        return new Samples(ids.length, start, Arrays.copyOf(out.corners, out.n * 8), Arrays.copyOf(out.w, out.n * 8),
                Arrays.copyOf(out.delta, out.n), Arrays.copyOf(out.view, out.n * config.viewChannels()));
    }

    private static int clamp(int i, int g) { return Math.max(0, Math.min(g - 1, i)); }

    private void viewEncoding(double x, double y, double z, double[] pe) {
        pe[0] = x;
        pe[1] = y;
        pe[2] = z;
        double f = 1;
        for (int l = 0; l < config.viewFreqs(); l++, f *= 2) {
            for (int a = 0; a < 3; a++) {
                double v = a == 0 ? x : a == 1 ? y : z;
                pe[3 + 6 * l + a] = Math.sin(f * v);
                pe[6 + 6 * l + a] = Math.cos(f * v);
            }
        }
    }

    private static final class GrowableSamples {
        final int vc;
        int n;
        long[] corners;
        float[] w;
        float[] delta;
        float[] view;

        GrowableSamples(int cap, int vc) {
            this.vc = vc;
            cap = Math.max(cap, 64);
            corners = new long[cap * 8];
            w = new float[cap * 8];
            delta = new float[cap];
            view = new float[cap * vc];
        }

        void add(int ix, int iy, int iz, double fx, double fy, double fz, int g, float dt, double[] pe) {
            if (n == delta.length) {
                int cap = n * 2;
                corners = Arrays.copyOf(corners, cap * 8);
                w = Arrays.copyOf(w, cap * 8);
                delta = Arrays.copyOf(delta, cap);
                view = Arrays.copyOf(view, cap * vc);
            }
            int c = 0;
            for (int cz = 0; cz < 2; cz++) {
                for (int cy = 0; cy < 2; cy++) {
                    for (int cx = 0; cx < 2; cx++, c++) {
                        int x = clamp(ix + cx, g), y = clamp(iy + cy, g), z = clamp(iz + cz, g);
                        corners[n * 8 + c] = x + (long) g * (y + (long) g * z);
                        w[n * 8 + c] = (float) ((cx == 1 ? fx : 1 - fx) * (cy == 1 ? fy : 1 - fy) * (cz == 1 ? fz : 1 - fz));
                    }
                }
            }
            delta[n] = dt;
            for (int k = 0; k < vc; k++) view[n * vc + k] = (float) pe[k];
            n++;
        }
    }

    /** Composited colour of each ray (R, 3) on a white background; differentiable w.r.t. grid and MLP. */
    public NDArray render(NDManager m, Samples s) {
        int r = s.rays();
        int c1 = 1 + config.features();
        if (s.count() == 0) return m.ones(new Shape(r, 3));
        NDArray idx = m.create(s.corners());                                        // (M·8)
        NDArray rows = rowsOf(grid.get(), idx);                                      // (M·8, 1+C)
        NDArray wts = m.create(s.weights(), new Shape(s.count(), 8, 1));
        NDArray vals = rows.reshape(s.count(), 8, c1).mul(wts).sum(new int[] {1}); // (M, 1+C)
        NDArray sigma = Activation.softPlus(vals.get(":, 0").sub(DENSITY_SHIFT));     // (M)
        NDArray feat = vals.get(":, 1:");                                            // (M, C)
        NDArray view = m.create(s.view(), new Shape(s.count(), config.viewChannels()));
        NDArray h = Activation.relu(mlp0.forward(feat.concat(view, 1)));
        h = Activation.relu(mlp1.forward(h));
        NDArray rgb = Activation.sigmoid(feat.get(":, 0:3").add(mlp2.forward(h)));  // (M, 3)
        NDArray sd = sigma.mul(m.create(s.delta())).expandDims(1);                  // (M, 1) optical depth of each sample
        // lay the ragged samples out as (R, S) with S the longest ray; padding reads an appended zero row
        int smax = 0;
        for (int q = 0; q < r; q++) smax = Math.max(smax, s.start()[q + 1] - s.start()[q]);
        long[] dense = new long[r * smax];
        Arrays.fill(dense, s.count());
        for (int q = 0; q < r; q++) {
            for (int i = s.start()[q]; i < s.start()[q + 1]; i++) dense[q * smax + i - s.start()[q]] = i;
        }
        NDArray table = sd.concat(rgb, 1).concat(m.zeros(new Shape(1, 4)), 0);      // (M+1, 4)
        NDArray grid2 = rowsOf(table, m.create(dense)).reshape(r, smax, 4);        // (R, S, 4)
        NDArray depth = grid2.get(":, :, 0");                                        // (R, S)
        NDArray before = depth.cumSum(1).sub(depth);                                 // (R, S) exclusive prefix
        NDArray weight = before.neg().exp().mul(depth.neg().exp().neg().add(1));     // (R, S)
        NDArray color = weight.expandDims(2).mul(grid2.get(":, :, 1:")).sum(new int[] {1}); // (R, 3)
        NDArray acc = weight.sum(new int[] {1}).expandDims(1);                       // (R, 1)
        return color.add(acc.neg().add(1));                                          // (R, 3)
    }

    /** table (N, D), idx (K) int64 → (K, D), differentiable w.r.t. table; the result lives in idx's manager. */
    static NDArray rowsOf(NDArray table, NDArray idx) {
        return idx.getNDArrayInternal().embedding(idx, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * Marks voxels whose density could matter: alpha over one voxel above min(threshold, mean alpha)
     * (the cap by the mean, as Instant-NGP does, prunes free space early in training), dilated by one voxel.
     */
    public void updateOccupancy(float alphaThreshold) {
        int g = config.grid();
        float[] all;
        try (NDArray density = grid.get().get(":, 0")) {                           // (G³)
            all = density.toFloatArray();
        }
        double vox = config.voxelSize();
        double[] alpha = new double[all.length];
        double mean = 0;
        for (int i = 0; i < all.length; i++) {
            double sigma = Math.log1p(Math.exp(all[i] - DENSITY_SHIFT));
            alpha[i] = 1 - Math.exp(-sigma * vox);
            mean += alpha[i] / all.length;
        }
        double thr = Math.min(alphaThreshold, mean);
        boolean[] dense = new boolean[all.length];
        for (int i = 0; i < all.length; i++) dense[i] = alpha[i] > thr;
        boolean[] occ = new boolean[all.length];
        for (int z = 0; z < g; z++) {
            for (int y = 0; y < g; y++) {
                for (int x = 0; x < g; x++) {
                    if (!dense[x + g * (y + g * z)]) continue;
                    for (int dz = -1; dz <= 1; dz++) for (int dy = -1; dy <= 1; dy++) for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx, yy = y + dy, zz = z + dz;
                        if (xx >= 0 && yy >= 0 && zz >= 0 && xx < g && yy < g && zz < g) occ[xx + g * (yy + g * zz)] = true;
                    }
                }
            }
        }
        occupied = occ;
    }

    /** The occupancy mask as a float32 array (G³) of 0 and 1, all ones when sampling everything. */
    public NDArray occupancyState(NDManager m) {
        float[] f = new float[(int) grid.shape().get(0)];
        for (int i = 0; i < f.length; i++) f[i] = occupied == null || occupied[i] ? 1 : 0;
        return m.create(f);
    }

    /** Restores a mask saved by {@link #occupancyState}. */
    public void restoreOccupancy(NDArray state) {
        float[] f = state.toFloatArray();
        if (f.length != grid.shape().get(0)) {
            throw new IllegalArgumentException("occupancy mask of " + f.length + " voxels for a grid of " + grid.shape().get(0));
        }
        boolean all = true;
        boolean[] occ = new boolean[f.length];
        for (int i = 0; i < f.length; i++) {
            occ[i] = f[i] != 0;
            all &= occ[i];
        }
        occupied = all ? null : occ;
    }

    public double occupiedFraction() {
        if (occupied == null) return 1;
        int n = 0;
        for (boolean b : occupied) if (b) n++;
        return n / (double) occupied.length;
    }

    /** Renders a whole image (no gradients), {@code chunk} rays at a time. */
    public RgbImage renderImage(NDManager manager, Camera cam, int chunk) {
        Camera.Rays rays = config.ndc() ? cam.ndcRays(1.0) : cam.rays();
        int n = cam.width() * cam.height();
        float[] out = new float[n * 3];
        for (int s = 0; s < n; s += chunk) {
            int e = Math.min(n, s + chunk);
            int[] ids = new int[e - s];
            for (int i = 0; i < ids.length; i++) ids[i] = s + i;
            Samples smp = sample(rays, ids, null);
            try (NDManager sub = manager.newSubManager()) {
                float[] rgb = render(sub, smp).toFloatArray();
                System.arraycopy(rgb, 0, out, 3 * s, rgb.length);
            }
        }
        return new RgbImage(cam.width(), cam.height(), out);
    }

    /** Bytes of weights (float32). */
    public long sizeBytes() { return 4 * parameterCount(); }

}
