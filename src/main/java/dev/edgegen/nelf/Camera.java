package dev.edgegen.nelf;

/**
 * A pinhole camera in the NeRF / OpenGL convention: camera looks down its -z axis, +y is up,
 * +x is right; {@code c2w} is the 4x4 camera-to-world matrix, row-major. Pixel (i, j) is sampled at
 * its centre (i + 0.5, j + 0.5).
 */
public record Camera(int width, int height, double focal, double[] c2w) {
    public Camera {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("camera size must be positive, got " + width + "x" + height);
        }
        if (!(focal > 0) || Double.isInfinite(focal)) {
            throw new IllegalArgumentException("focal length must be positive and finite, got " + focal);
        }
        Poses.requireRigid(c2w, "camera pose");
        c2w = c2w.clone();
    }

    /** NeRF-synthetic: focal = 0.5 W / tan(camera_angle_x / 2). */
    public static Camera fromAngleX(int width, int height, double cameraAngleX, double[] c2w) {
        if (!(cameraAngleX > 0 && cameraAngleX < Math.PI)) {
            throw new IllegalArgumentException("camera_angle_x must be in (0, pi) radians, got " + cameraAngleX);
        }
        return new Camera(width, height, 0.5 * width / Math.tan(0.5 * cameraAngleX), c2w);
    }

    /** The same camera with the image grid scaled to {@code w x h} (focal scales with width). */
    public Camera resized(int w, int h) {
        return new Camera(w, h, focal * w / width, c2w);
    }

    public double[] origin() {
        return new double[] {c2w[3], c2w[7], c2w[11]};
    }

    /** World-space rays of every pixel, row-major: origins and (unnormalised, camera z = -1) directions. */
    public Rays rays() {
        int n = width * height;
        float[] o = new float[n * 3];
        float[] d = new float[n * 3];
        double ox = c2w[3], oy = c2w[7], oz = c2w[11];
        for (int j = 0; j < height; j++) {
            for (int i = 0; i < width; i++) {
                double x = (i + 0.5 - 0.5 * width) / focal;
                double y = -(j + 0.5 - 0.5 * height) / focal;
                int p = (j * width + i) * 3;
                for (int r = 0; r < 3; r++) {
                    d[p + r] = (float) (c2w[4 * r] * x + c2w[4 * r + 1] * y - c2w[4 * r + 2]);
                }
                o[p] = (float) ox;
                o[p + 1] = (float) oy;
                o[p + 2] = (float) oz;
            }
        }
        return new Rays(o, d, width, height);
    }

    /**
     * Rays as NeRF's {@code ndc_rays} maps forward-facing scenes: origins moved to the plane z = -near,
     * then projected into normalised device coordinates, where t in [0, 1] spans near to infinity.
     */
    public Rays ndcRays(double near) {
        Rays w = rays();
        int n = width * height;
        float[] o = new float[n * 3];
        float[] d = new float[n * 3];
        double ax = -focal / (0.5 * width), ay = -focal / (0.5 * height);
        for (int p = 0; p < n; p++) {
            double ox = w.origins()[3 * p], oy = w.origins()[3 * p + 1], oz = w.origins()[3 * p + 2];
            double dx = w.directions()[3 * p], dy = w.directions()[3 * p + 1], dz = w.directions()[3 * p + 2];
            double t = -(near + oz) / dz;
            ox += t * dx;
            oy += t * dy;
            oz += t * dz;
            o[3 * p] = (float) (ax * ox / oz);
            o[3 * p + 1] = (float) (ay * oy / oz);
            o[3 * p + 2] = (float) (1 + 2 * near / oz);
            d[3 * p] = (float) (ax * (dx / dz - ox / oz));
            d[3 * p + 1] = (float) (ay * (dy / dz - oy / oz));
            d[3 * p + 2] = (float) (-2 * near / oz);
        }
        return new Rays(o, d, width, height);
    }

    /** Rays of one image: origins (H*W, 3) and directions (H*W, 3), row-major pixels. */
    public record Rays(float[] origins, float[] directions, int width, int height) {}
}
