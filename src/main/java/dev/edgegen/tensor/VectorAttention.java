package dev.edgegen.tensor;

import ai.djl.ndarray.NDArray;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Option (c): flash-style attention in Java with the Vector API (query blocks × key tiles, online softmax). */
public final class VectorAttention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int R = 8;      // query rows per block
    private static final int T = 256;    // keys per tile (multiple of L)

    private VectorAttention() {}

    public static NDArray forward(NDArray q, NDArray k, NDArray v, int heads, boolean causal) {
        int b = (int) q.getShape().get(0);
        int n = (int) q.getShape().get(1);
        int m = (int) k.getShape().get(1);
        int hd = (int) q.getShape().get(2);
        float[] out = attend(q.toFloatArray(), k.toFloatArray(), v.toFloatArray(), b, n, m, heads, hd / heads, causal);
        return q.getManager().create(out, q.getShape());
    }

    static float[] attend(float[] q, float[] k, float[] v, int b, int n, int m, int heads, int d, boolean causal) {
        int hd = heads * d;
        float[] out = new float[b * n * hd];
        float scale = (float) (1 / Math.sqrt(d));
        int mp = (m + L - 1) / L * L;
        int dp = (d + L - 1) / L * L;
        IntStream.range(0, b * heads).parallel().forEach(bh -> {
            int bi = bh / heads;
            int h = bh % heads;
            float[] kt = new float[d * mp];              // (D, Mp) keys transposed, scaled
            float[] vp = new float[m * dp];              // (M, Dp) values, zero-padded
            for (int j = 0; j < m; j++) {
                int src = (bi * m + j) * hd + h * d;
                for (int c = 0; c < d; c++) {
                    kt[c * mp + j] = k[src + c] * scale;
                    vp[j * dp + c] = v[src + c];
                }
            }
            float[] qb = new float[R * d];
            float[] s = new float[R * T];
            float[] acc = new float[R * dp];
            float[] rowMax = new float[R];
            float[] rowSum = new float[R];
            for (int i0 = 0; i0 < n; i0 += R) {
                int rows = Math.min(R, n - i0);
                java.util.Arrays.fill(qb, 0f);
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(q, (bi * n + i0 + r) * hd + h * d, qb, r * d, d);
                }
                java.util.Arrays.fill(acc, 0f);
                java.util.Arrays.fill(rowMax, Float.NEGATIVE_INFINITY);
                java.util.Arrays.fill(rowSum, 0f);
                int keys = causal ? Math.min(m, i0 + rows) : m;
                for (int j0 = 0; j0 < keys; j0 += T) {
                    int tile = Math.min(T, keys - j0);
                    scores(qb, kt, mp, d, j0, tile, s);
                    for (int r = 0; r < R; r++) {
                        int valid = causal ? Math.max(0, Math.min(tile, i0 + r + 1 - j0)) : tile;
                        for (int j = valid; j < (tile + L - 1) / L * L; j++) {
                            s[r * T + j] = Float.NEGATIVE_INFINITY;
                        }
                        softmaxTile(s, r * T, (tile + L - 1) / L * L, acc, r * dp, dp, rowMax, rowSum, r);
                    }
                    accumulate(s, vp, dp, j0, tile, acc);
                }
                for (int r = 0; r < rows; r++) {
                    float inv = 1 / rowSum[r];
                    int dst = (bi * n + i0 + r) * hd + h * d;
                    for (int c = 0; c < d; c++) {
                        out[dst + c] = acc[r * dp + c] * inv;
                    }
                }
            }
        });
        return out;
    }

    /** s[r][0..tile) = q[r] · kt[:, j0..j0+tile), R rows at once. */
    private static void scores(float[] qb, float[] kt, int mp, int d, int j0, int tile, float[] s) {
        for (int j = 0; j < tile; j += L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            FloatVector a4 = FloatVector.zero(S);
            FloatVector a5 = FloatVector.zero(S);
            FloatVector a6 = FloatVector.zero(S);
            FloatVector a7 = FloatVector.zero(S);
            for (int c = 0; c < d; c++) {
                FloatVector kv = FloatVector.fromArray(S, kt, c * mp + j0 + j);
                a0 = kv.fma(FloatVector.broadcast(S, qb[c]), a0);
                a1 = kv.fma(FloatVector.broadcast(S, qb[d + c]), a1);
                a2 = kv.fma(FloatVector.broadcast(S, qb[2 * d + c]), a2);
                a3 = kv.fma(FloatVector.broadcast(S, qb[3 * d + c]), a3);
                a4 = kv.fma(FloatVector.broadcast(S, qb[4 * d + c]), a4);
                a5 = kv.fma(FloatVector.broadcast(S, qb[5 * d + c]), a5);
                a6 = kv.fma(FloatVector.broadcast(S, qb[6 * d + c]), a6);
                a7 = kv.fma(FloatVector.broadcast(S, qb[7 * d + c]), a7);
            }
            a0.intoArray(s, j);
            a1.intoArray(s, T + j);
            a2.intoArray(s, 2 * T + j);
            a3.intoArray(s, 3 * T + j);
            a4.intoArray(s, 4 * T + j);
            a5.intoArray(s, 5 * T + j);
            a6.intoArray(s, 6 * T + j);
            a7.intoArray(s, 7 * T + j);
        }
    }

    /** Online softmax step for one row: rescales the row's accumulator, turns scores into weights. */
    private static void softmaxTile(float[] s, int off, int len, float[] acc, int accOff, int dp,
            float[] rowMax, float[] rowSum, int r) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < len; j += L) {
            mx = mx.max(FloatVector.fromArray(S, s, off + j));
        }
        float tileMax = mx.reduceLanes(VectorOperators.MAX);
        float newMax = Math.max(rowMax[r], tileMax);
        if (newMax == Float.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(s, off, off + len, 0f);
            return;
        }
        float corr = (float) Math.exp(rowMax[r] - newMax);
        FloatVector sum = FloatVector.zero(S);
        FloatVector shift = FloatVector.broadcast(S, newMax);
        for (int j = 0; j < len; j += L) {
            FloatVector p = exp(FloatVector.fromArray(S, s, off + j).sub(shift));
            p.intoArray(s, off + j);
            sum = sum.add(p);
        }
        rowSum[r] = rowSum[r] * corr + sum.reduceLanes(VectorOperators.ADD);
        rowMax[r] = newMax;
        if (corr != 1f) {
            for (int c = 0; c < dp; c += L) {
                FloatVector.fromArray(S, acc, accOff + c).mul(corr).intoArray(acc, accOff + c);
            }
        }
    }

    /** acc[r] += Σ_j p[r][j] · v[j0 + j], R rows at once. */
    private static void accumulate(float[] s, float[] vp, int dp, int j0, int tile, float[] acc) {
        for (int c = 0; c < dp; c += L) {
            FloatVector a0 = FloatVector.fromArray(S, acc, c);
            FloatVector a1 = FloatVector.fromArray(S, acc, dp + c);
            FloatVector a2 = FloatVector.fromArray(S, acc, 2 * dp + c);
            FloatVector a3 = FloatVector.fromArray(S, acc, 3 * dp + c);
            FloatVector a4 = FloatVector.fromArray(S, acc, 4 * dp + c);
            FloatVector a5 = FloatVector.fromArray(S, acc, 5 * dp + c);
            FloatVector a6 = FloatVector.fromArray(S, acc, 6 * dp + c);
            FloatVector a7 = FloatVector.fromArray(S, acc, 7 * dp + c);
            for (int j = 0; j < tile; j++) {
                FloatVector vv = FloatVector.fromArray(S, vp, (j0 + j) * dp + c);
                a0 = vv.fma(FloatVector.broadcast(S, s[j]), a0);
                a1 = vv.fma(FloatVector.broadcast(S, s[T + j]), a1);
                a2 = vv.fma(FloatVector.broadcast(S, s[2 * T + j]), a2);
                a3 = vv.fma(FloatVector.broadcast(S, s[3 * T + j]), a3);
                a4 = vv.fma(FloatVector.broadcast(S, s[4 * T + j]), a4);
                a5 = vv.fma(FloatVector.broadcast(S, s[5 * T + j]), a5);
                a6 = vv.fma(FloatVector.broadcast(S, s[6 * T + j]), a6);
                a7 = vv.fma(FloatVector.broadcast(S, s[7 * T + j]), a7);
            }
            a0.intoArray(acc, c);
            a1.intoArray(acc, dp + c);
            a2.intoArray(acc, 2 * dp + c);
            a3.intoArray(acc, 3 * dp + c);
            a4.intoArray(acc, 4 * dp + c);
            a5.intoArray(acc, 5 * dp + c);
            a6.intoArray(acc, 6 * dp + c);
            a7.intoArray(acc, 7 * dp + c);
        }
    }

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MAGIC = 12582912f;   // 1.5 · 2^23: adding it rounds to an integer

    /** e^x for x ≤ 0 (clamped at -87), Cephes-style polynomial, ~1e-7 relative error. */
    private static FloatVector exp(FloatVector x) {
        x = x.max(-87f);
        FloatVector t = x.fma(LOG2E, MAGIC);
        FloatVector nf = t.sub(MAGIC);
        FloatVector r = nf.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = nf.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(S, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
        FloatVector r2 = r.mul(r);
        p = p.fma(r2, r).add(1f);
        IntVector n = t.reinterpretAsInts().sub(Float.floatToRawIntBits(MAGIC));
        FloatVector pow2 = n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(pow2);
    }
}
