package dev.edgegen.nelf.scene;

import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Poses;
import dev.edgegen.nelf.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The LLFF forward-facing layout: {@code poses_bounds.npy} (N, 17) = per image a 3x5 matrix
 * [R | t | (H, W, focal)] in LLFF's (down, right, back) axes plus near/far depth bounds, and the
 * images in {@code images/} (or {@code images_F/} for a down-scale factor F), sorted by name.
 * As NeRF does: axes converted to (right, up, back), scene scaled so the nearest bound is 1/0.75,
 * poses recentred on their average, every 8th image held out for test, rays in NDC.
 */
public final class LlffLoader {
    private LlffLoader() {}

    public static SceneDataset load(Path dir, int factor) {
        Path npy = dir.resolve("poses_bounds.npy");
        if (!Files.isRegularFile(npy)) throw new IllegalArgumentException(npy + ": missing (LLFF scenes need poses_bounds.npy)");
        Npy.Array arr = Npy.read(npy);
        if (arr.shape().length != 2 || arr.shape()[1] != 17) {
            throw new IllegalArgumentException("poses_bounds.npy: expected shape (N, 17), got " + java.util.Arrays.toString(arr.shape()));
        }
        int n = (int) arr.shape()[0];
        Path imgDir = dir.resolve(factor == 1 ? "images" : "images_" + factor);
        List<Path> files;
        try (Stream<Path> s = Files.list(imgDir)) {
            files = s.filter(p -> p.getFileName().toString().matches("(?i).*\\.(png|jpe?g)$")).sorted().toList();
        } catch (IOException e) {
            throw new IllegalArgumentException(imgDir + ": cannot list images (" + e.getMessage() + ")", e);
        }
        if (files.size() != n) {
            throw new IllegalArgumentException(imgDir + ": " + files.size() + " images but poses_bounds.npy has " + n + " poses");
        }
        double[][] poses = new double[n][];
        double minBound = Double.MAX_VALUE, maxBound = 0;
        double[] hwf = new double[3];
        for (int i = 0; i < n; i++) {
            double[] row = java.util.Arrays.copyOfRange(arr.data(), 17 * i, 17 * i + 17);
            double[] m = new double[16];
            for (int r = 0; r < 3; r++) {
                double c0 = row[5 * r], c1 = row[5 * r + 1];
                m[4 * r] = c1;       // right = old column 1
                m[4 * r + 1] = -c0;  // up = -down
                m[4 * r + 2] = row[5 * r + 2];
                m[4 * r + 3] = row[5 * r + 3];
            }
            m[15] = 1;
            try {
                Poses.requireRigid(m, "pose");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("poses_bounds.npy: row " + i + ": " + e.getMessage(), e);
            }
            if (!(row[15] > 0 && row[16] > row[15])) {
                throw new IllegalArgumentException("poses_bounds.npy: row " + i + ": bounds must satisfy 0 < near < far, got " + row[15] + ", " + row[16]);
            }
            hwf = new double[] {row[4], row[9], row[14]};
            poses[i] = m;
            minBound = Math.min(minBound, row[15]);
            maxBound = Math.max(maxBound, row[16]);
        }
        double sc = 1 / (minBound * 0.75);
        for (double[] m : poses) {
            m[3] *= sc;
            m[7] *= sc;
            m[11] *= sc;
        }
        double[] inv = invertRigid(average(poses));
        List<View> train = new ArrayList<>(), test = new ArrayList<>();
        int w0 = -1, h0 = -1;
        for (int i = 0; i < n; i++) {
            RgbImage img = RgbImage.read(files.get(i));
            if (w0 < 0) {
                w0 = img.width();
                h0 = img.height();
            } else if (img.width() != w0 || img.height() != h0) {
                throw new IllegalArgumentException(files.get(i) + ": image is " + img.width() + "x" + img.height()
                        + " but " + files.get(0) + " is " + w0 + "x" + h0 + " (all images of a scene must have one size)");
            }
            double focal = hwf[2] * img.width() / hwf[1];
            View v = new View(new Camera(img.width(), img.height(), focal, mul(inv, poses[i])), img, files.get(i).toString());
            (i % 8 == 0 ? test : train).add(v);
        }
        if (train.isEmpty()) train.addAll(test);
        return new SceneDataset(dir.getFileName().toString(), train, test, test, 0, 1, true);
    }

    static double[] average(double[][] poses) {
        double[] c = new double[3], z = new double[3], y = new double[3];
        for (double[] m : poses) {
            for (int r = 0; r < 3; r++) {
                c[r] += m[4 * r + 3] / poses.length;
                z[r] += m[4 * r + 2];
                y[r] += m[4 * r + 1];
            }
        }
        double[] v2 = norm(z);
        double[] v0 = norm(cross(y, v2));
        double[] v1 = norm(cross(v2, v0));
        return new double[] {v0[0], v1[0], v2[0], c[0], v0[1], v1[1], v2[1], c[1], v0[2], v1[2], v2[2], c[2], 0, 0, 0, 1};
    }

    static double[] invertRigid(double[] m) {
        double[] o = new double[16];
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++) o[4 * r + c] = m[4 * c + r];
            o[4 * r + 3] = -(m[r] * m[3] + m[4 + r] * m[7] + m[8 + r] * m[11]);
        }
        o[15] = 1;
        return o;
    }

    static double[] mul(double[] a, double[] b) {
        double[] o = new double[16];
        for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) for (int k = 0; k < 4; k++) o[4 * r + c] += a[4 * r + k] * b[4 * k + c];
        return o;
    }

    private static double[] cross(double[] a, double[] b) {
        return new double[] {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    }

    private static double[] norm(double[] a) {
        double n = Math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
        return new double[] {a[0] / n, a[1] / n, a[2] / n};
    }
}
