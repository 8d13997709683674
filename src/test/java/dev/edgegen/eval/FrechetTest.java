package dev.edgegen.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FrechetTest {
    static Frechet.Stats gaussian(double[] mean, double[][] cov) {
        return new Frechet.Stats(mean, cov, 100);
    }

    @Test
    void matchesClosedFormsAndIsRotationInvariant() {
        // diagonal covariances: |Δμ|² + Σ (σa + σb − 2√(σa σb))
        double[][] a = {{4, 0, 0}, {0, 1, 0}, {0, 0, 9}};
        double[][] b = {{1, 0, 0}, {0, 1, 0}, {0, 0, 4}};
        double expected = 1 + 4 + (4 + 1 - 2 * 2) + 0 + (9 + 4 - 2 * 6);
        assertEquals(expected, Frechet.distance(gaussian(new double[] {0, 0, 0}, a), gaussian(new double[] {1, 2, 0}, b)), 1e-9);
        // rotating both distributions leaves the distance unchanged (non-commuting after a random rotation of one)
        Random r = new Random(1);
        double[][] full = randomSpd(6, r), other = randomSpd(6, r);
        double d0 = Frechet.distance(gaussian(new double[6], full), gaussian(new double[6], other));
        double[][] q = rotation(6, r);
        double d1 = Frechet.distance(gaussian(new double[6], conj(q, full)), gaussian(new double[6], conj(q, other)));
        assertEquals(d0, d1, 1e-8);
        assertEquals(0, Frechet.distance(gaussian(new double[6], full), gaussian(new double[6], full)), 1e-8);
        // and the matrix square root squares back
        double[][] s = Frechet.sqrtPsd(full);
        double[][] ss = Frechet.multiply(s, s);
        for (int i = 0; i < 6; i++) for (int j = 0; j < 6; j++) assertEquals(full[i][j], ss[i][j], 1e-9);
    }

    @Test
    void statsFromSamplesApproachTheTruth() {
        Random r = new Random(2);
        int n = 20000, d = 2;
        float[] x = new float[n * d], y = new float[n * d];
        for (int i = 0; i < n; i++) {
            x[i * 2] = (float) r.nextGaussian();
            x[i * 2 + 1] = (float) (2 * r.nextGaussian());
            y[i * 2] = (float) (1 + r.nextGaussian());
            y[i * 2 + 1] = (float) (2 * r.nextGaussian());
        }
        double fid = Frechet.distance(Frechet.stats(x, n, d), Frechet.stats(y, n, d));
        assertEquals(1.0, fid, 0.06);
        assertThrows(IllegalArgumentException.class, () -> Frechet.stats(new float[3], 1, 3));
    }

    static double[][] randomSpd(int n, Random r) {
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) m[i][j] = r.nextGaussian();
        double[][] s = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int k = 0; k < n; k++) s[i][j] += m[i][k] * m[j][k];
        return s;
    }

    static double[][] rotation(int n, Random r) {
        double[][] q = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) q[i][j] = r.nextGaussian();
        for (int i = 0; i < n; i++) { // Gram-Schmidt
            for (int k = 0; k < i; k++) {
                double dot = 0;
                for (int j = 0; j < n; j++) dot += q[i][j] * q[k][j];
                for (int j = 0; j < n; j++) q[i][j] -= dot * q[k][j];
            }
            double norm = 0;
            for (int j = 0; j < n; j++) norm += q[i][j] * q[i][j];
            for (int j = 0; j < n; j++) q[i][j] /= Math.sqrt(norm);
        }
        return q;
    }

    static double[][] conj(double[][] q, double[][] s) {
        double[][] qt = new double[q.length][q.length];
        for (int i = 0; i < q.length; i++) for (int j = 0; j < q.length; j++) qt[i][j] = q[j][i];
        return Frechet.multiply(Frechet.multiply(q, s), qt);
    }
}
