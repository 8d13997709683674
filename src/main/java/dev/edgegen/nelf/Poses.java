package dev.edgegen.nelf;

import java.util.ArrayList;
import java.util.List;

/** 4x4 row-major camera-to-world matrices: validation and the orbits the scene writer and renderer use. */
public final class Poses {
    private static final double TOL = 1e-3;

    private Poses() {}

    /** Throws unless {@code m} is a 4x4 rigid transform (orthonormal rotation, det +1, last row 0 0 0 1). */
    public static void requireRigid(double[] m, String what) {
        if (m == null || m.length != 16) {
            throw new IllegalArgumentException(what + ": expected a 4x4 matrix (16 numbers), got "
                    + (m == null ? "none" : m.length + " numbers"));
        }
        for (double v : m) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException(what + ": matrix has a non-finite entry");
            }
        }
        if (Math.abs(m[12]) > TOL || Math.abs(m[13]) > TOL || Math.abs(m[14]) > TOL || Math.abs(m[15] - 1) > TOL) {
            throw new IllegalArgumentException(what + ": last row must be [0, 0, 0, 1], got ["
                    + m[12] + ", " + m[13] + ", " + m[14] + ", " + m[15] + "]");
        }
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                double dot = 0;
                for (int r = 0; r < 3; r++) {
                    dot += m[4 * r + a] * m[4 * r + b];
                }
                if (Math.abs(dot - (a == b ? 1 : 0)) > TOL) {
                    throw new IllegalArgumentException(what + ": not a rigid transform (rotation columns "
                            + a + " and " + b + " have dot product " + dot + "; scale or shear is not allowed)");
                }
            }
        }
        double det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8])
                + m[2] * (m[4] * m[9] - m[5] * m[8]);
        if (det < 0) {
            throw new IllegalArgumentException(what + ": rotation has determinant " + det + " (a reflection), expected +1");
        }
    }

    /** Camera at {@code eye} looking at {@code target}, world up +z (NeRF-synthetic convention). */
    public static double[] lookAt(double[] eye, double[] target) {
        double[] back = normalize(sub(eye, target));
        double[] up = {0, 0, 1};
        if (Math.abs(dot(back, up)) > 0.999) {
            up = new double[] {0, 1, 0};
        }
        double[] right = normalize(cross(up, back));
        double[] camUp = cross(back, right);
        return new double[] {
            right[0], camUp[0], back[0], eye[0],
            right[1], camUp[1], back[1], eye[1],
            right[2], camUp[2], back[2], eye[2],
            0, 0, 0, 1};
    }

    /** A camera on a sphere of {@code radius} at azimuth/elevation (degrees) looking at the origin. */
    public static double[] spherical(double azimuthDeg, double elevationDeg, double radius) {
        double az = Math.toRadians(azimuthDeg), el = Math.toRadians(elevationDeg);
        double[] eye = {radius * Math.cos(el) * Math.cos(az), radius * Math.cos(el) * Math.sin(az), radius * Math.sin(el)};
        return lookAt(eye, new double[] {0, 0, 0});
    }

    /** {@code n} cameras spread over the upper hemisphere (elevation in [minEl, maxEl]) by a seeded Fibonacci spiral. */
    public static List<double[]> hemisphere(int n, double radius, double minElDeg, double maxElDeg, long seed) {
        List<double[]> out = new ArrayList<>(n);
        double golden = Math.PI * (3 - Math.sqrt(5));
        double offset = new java.util.SplittableRandom(seed).nextDouble() * 2 * Math.PI;
        double zMin = Math.sin(Math.toRadians(minElDeg)), zMax = Math.sin(Math.toRadians(maxElDeg));
        for (int k = 0; k < n; k++) {
            double z = zMin + (zMax - zMin) * (k + 0.5) / n;
            double az = offset + golden * k;
            out.add(spherical(Math.toDegrees(az), Math.toDegrees(Math.asin(z)), radius));
        }
        return out;
    }

    /** A turn-table orbit of {@code frames} cameras at fixed elevation. */
    public static List<double[]> orbit(int frames, double radius, double elevationDeg) {
        List<double[]> out = new ArrayList<>(frames);
        for (int k = 0; k < frames; k++) {
            out.add(spherical(360.0 * k / frames, elevationDeg, radius));
        }
        return out;
    }

    static double[] sub(double[] a, double[] b) { return new double[] {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }

    static double dot(double[] a, double[] b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

    static double[] cross(double[] a, double[] b) {
        return new double[] {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    }

    static double[] normalize(double[] a) {
        double n = Math.sqrt(dot(a, a));
        return new double[] {a[0] / n, a[1] / n, a[2] / n};
    }
}
