package dev.edgegen.eval;

/**
 * The Fréchet distance between two Gaussians fitted to feature sets, the quantity FID reports
 * (Heusel et al. 2017): ‖μa − μb‖² + tr(Σa) + tr(Σb) − 2 tr((Σa^½ Σb Σa^½)^½). Square roots of
 * the symmetric PSD matrices come from a Jacobi eigendecomposition, in double precision.
 */
public final class Frechet {
    private Frechet() {}

    /** Mean and (unbiased) covariance of {@code n} feature rows of width {@code d}. */
    public record Stats(double[] mean, double[][] cov, int n) {}

    /** features: (n, d) row-major. */
    public static Stats stats(float[] features, int n, int d) {
        if (n < 2) throw new IllegalArgumentException("need at least 2 feature vectors, got " + n);
        if (features.length != (long) n * d) throw new IllegalArgumentException("features hold " + features.length + " values, expected " + n + "x" + d);
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += features[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        double[][] cov = new double[d][d];
        double[] x = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) x[j] = features[i * d + j] - mean[j];
            for (int a = 0; a < d; a++) {
                double xa = x[a];
                for (int b = a; b < d; b++) cov[a][b] += xa * x[b];
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a][b] /= n - 1;
                cov[b][a] = cov[a][b];
            }
        }
        return new Stats(mean, cov, n);
    }

    public static double distance(Stats a, Stats b) {
        int d = a.mean().length;
        if (b.mean().length != d) throw new IllegalArgumentException("feature widths differ: " + d + " vs " + b.mean().length);
        double diff = 0;
        for (int j = 0; j < d; j++) diff += Math.pow(a.mean()[j] - b.mean()[j], 2);
        double[][] sa = sqrtPsd(a.cov());
        double[][] m = multiply(multiply(sa, b.cov()), sa);
        symmetrize(m);
        double trSqrt = 0;
        for (double ev : eigenvalues(m)) trSqrt += Math.sqrt(Math.max(ev, 0));
        return diff + trace(a.cov()) + trace(b.cov()) - 2 * trSqrt;
    }

    static double trace(double[][] m) {
        double t = 0;
        for (int i = 0; i < m.length; i++) t += m[i][i];
        return t;
    }

    static double[][] multiply(double[][] x, double[][] y) {
        int n = x.length;
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double v = x[i][k];
                if (v == 0) continue;
                for (int j = 0; j < n; j++) out[i][j] += v * y[k][j];
            }
        }
        return out;
    }

    private static void symmetrize(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) {
                double v = 0.5 * (m[i][j] + m[j][i]);
                m[i][j] = v;
                m[j][i] = v;
            }
        }
    }

    /** V diag(√max(λ, 0)) Vᵀ of a symmetric matrix. */
    static double[][] sqrtPsd(double[][] s) {
        int n = s.length;
        double[][] v = new double[n][n];
        double[] ev = jacobi(copy(s), v);
        double[][] out = new double[n][n];
        for (int k = 0; k < n; k++) {
            double r = Math.sqrt(Math.max(ev[k], 0));
            if (r == 0) continue;
            for (int i = 0; i < n; i++) {
                double vi = v[i][k] * r;
                for (int j = 0; j < n; j++) out[i][j] += vi * v[j][k];
            }
        }
        return out;
    }

    static double[] eigenvalues(double[][] s) {
        return jacobi(copy(s), new double[s.length][s.length]);
    }

    private static double[][] copy(double[][] s) {
        double[][] c = new double[s.length][];
        for (int i = 0; i < s.length; i++) c[i] = s[i].clone();
        return c;
    }

    /** Cyclic Jacobi rotations: diagonalises symmetric {@code a} in place, eigenvectors into the columns of {@code v}. */
    private static double[] jacobi(double[][] a, double[][] v) {
        int n = a.length;
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(v[i], 0);
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    total += a[i][j] * a[i][j];
                    if (i != j) off += a[i][j] * a[i][j];
                }
            }
            if (off <= 1e-30 * Math.max(total, 1e-300)) break;
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p][q];
                    if (Math.abs(apq) < 1e-300) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] ev = new double[n];
        for (int i = 0; i < n; i++) ev[i] = a[i][i];
        return ev;
    }
}
