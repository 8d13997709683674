package dev.edgegen.nelf.teacher;

/**
 * The voxel-grid NeRF teacher (in the spirit of DVGO, Sun et al. 2022): a dense grid of {@code grid}³
 * voxels over the box [-bound, bound]³ holding a raw density and {@code features} colour features,
 * read by trilinear interpolation; colour = sigmoid(first 3 features + a small MLP of the features and
 * the view direction's positional encoding ({@code viewFreqs} frequencies), {@code hidden} units).
 * Rays take samples every {@code step} voxels between near and far; samples outside the box or in
 * voxels the occupancy grid marks empty are skipped. White background.
 */
public record TeacherConfig(int grid, int features, int hidden, int viewFreqs, double bound, double step,
                            double near, double far, boolean ndc) {
    public TeacherConfig {
        if (grid < 4 || grid > 320) throw new IllegalArgumentException("grid must be in 4..320, got " + grid);
        if (features < 3) throw new IllegalArgumentException("features must be >= 3 (the first three are the diffuse colour), got " + features);
        if (hidden < 1 || viewFreqs < 0) throw new IllegalArgumentException("hidden must be >= 1 and viewFreqs >= 0");
        if (!(bound > 0)) throw new IllegalArgumentException("bound must be positive, got " + bound);
        if (!(step > 0 && step <= 2)) throw new IllegalArgumentException("step (in voxels) must be in (0, 2], got " + step);
        if (!(far > near)) throw new IllegalArgumentException("far must exceed near, got " + near + ", " + far);
    }

    public static TeacherConfig defaults(double near, double far, boolean ndc) {
        return new TeacherConfig(96, 12, 32, 2, ndc ? 1.0 : 1.1, 0.6, near, far, ndc);
    }

    public double voxelSize() { return 2 * bound / grid; }

    public int viewChannels() { return 3 + 6 * viewFreqs; }
}
