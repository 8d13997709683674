package dev.edgegen.nn;

/** Plain-loop reference math on row-major float arrays, for checking the NDArray blocks. */
final class Ref {
    private Ref() {}

    static float[] w(Parameter p) { return p.get().toFloatArray(); }

    /** x (B, C, H, W), weight (O, C, k, k), bias (O) or null → (B, O, Ho, Wo); pads top/left by pad, bottom/right by padEnd. */
    static float[] conv2d(float[] x, int b, int c, int h, int wd, float[] weight, float[] bias, int o, int k,
                          int stride, int pad, int padEnd) {
        int ho = (h + pad + padEnd - k) / stride + 1;
        int wo = (wd + pad + padEnd - k) / stride + 1;
        float[] y = new float[b * o * ho * wo];
        for (int n = 0; n < b; n++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++) {
                        double s = bias == null ? 0 : bias[oc];
                        for (int ic = 0; ic < c; ic++)
                            for (int ki = 0; ki < k; ki++)
                                for (int kj = 0; kj < k; kj++) {
                                    int yi = i * stride + ki - pad, xj = j * stride + kj - pad;
                                    if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
                                    s += x[((n * c + ic) * h + yi) * wd + xj] * weight[((oc * c + ic) * k + ki) * k + kj];
                                }
                        y[((n * o + oc) * ho + i) * wo + j] = (float) s;
                    }
        return y;
    }

    /** x (B, C, S) flattened spatial; per (batch, group) normalisation, then per-channel affine. */
    static float[] groupNorm(float[] x, int b, int c, int s, int groups, float[] gamma, float[] beta, float eps) {
        float[] y = new float[x.length];
        int cg = c / groups;
        for (int n = 0; n < b; n++)
            for (int g = 0; g < groups; g++) {
                double mean = 0, var = 0;
                int base = (n * c + g * cg) * s;
                for (int i = 0; i < cg * s; i++) mean += x[base + i];
                mean /= cg * s;
                for (int i = 0; i < cg * s; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
                var /= cg * s;
                double inv = 1 / Math.sqrt(var + eps);
                for (int ci = 0; ci < cg; ci++) {
                    int ch = g * cg + ci;
                    for (int i = 0; i < s; i++) {
                        int idx = base + ci * s + i;
                        y[idx] = (float) ((x[idx] - mean) * inv * gamma[ch] + beta[ch]);
                    }
                }
            }
        return y;
    }

    /** x (R, D) → LayerNorm over D. */
    static float[] layerNorm(float[] x, int rows, int d, float[] gamma, float[] beta, float eps) {
        return groupNorm(x, rows, d, 1, 1, gamma, beta, eps);
    }

    /** x (R, in), weight (out, in), bias (out) or null → (R, out). */
    static float[] linear(float[] x, int rows, int in, float[] weight, float[] bias, int out) {
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) s += x[r * in + i] * weight[o * in + i];
                y[r * out + o] = (float) s;
            }
        return y;
    }

    static float[] silu(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) (x[i] / (1 + Math.exp(-x[i])));
        return y;
    }

    /** Exact GELU, x Φ(x), with erf from Abramowitz–Stegun 7.1.26 (|error| &lt; 1.5e-7). */
    static double gelu(double x) {
        double z = Math.abs(x) / Math.sqrt(2);
        double t = 1 / (1 + 0.3275911 * z);
        double erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
        if (x < 0) erf = -erf;
        return 0.5 * x * (1 + erf);
    }

    static float[] add(float[] a, float[] b) {
        float[] y = new float[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /** (B, C, S) ↔ (B, S, C). */
    static float[] transpose12(float[] x, int b, int p, int q) {
        float[] y = new float[x.length];
        for (int n = 0; n < b; n++)
            for (int i = 0; i < p; i++)
                for (int j = 0; j < q; j++) y[(n * q + j) * p + i] = x[(n * p + i) * q + j];
        return y;
    }

    /** q (B, N, H·D), k, v (B, M, H·D) → (B, N, H·D). */
    static float[] attention(float[] q, float[] k, float[] v, int b, int n, int m, int heads, int d) {
        int hd = heads * d;
        float[] y = new float[b * n * hd];
        double[] sc = new double[m];
        for (int bb = 0; bb < b; bb++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < n; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < m; j++) {
                        double s = 0;
                        for (int e = 0; e < d; e++) s += q[(bb * n + i) * hd + h * d + e] * k[(bb * m + j) * hd + h * d + e];
                        sc[j] = s / Math.sqrt(d);
                        max = Math.max(max, sc[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < m; j++) { sc[j] = Math.exp(sc[j] - max); z += sc[j]; }
                    for (int e = 0; e < d; e++) {
                        double s = 0;
                        for (int j = 0; j < m; j++) s += sc[j] * v[(bb * m + j) * hd + h * d + e];
                        y[(bb * n + i) * hd + h * d + e] = (float) (s / z);
                    }
                }
        return y;
    }

    /** CrossAttention / AttentionBlock projections: x (B, N, Dq), ctx (B, M, Dc). */
    static float[] crossAttention(CrossAttention a, float[] x, float[] ctx, int b, int n, int m) {
        int inner = a.heads * a.dimHead;
        float[] q = linear(x, b * n, a.queryDim, w(a.toQ.weight), null, inner);
        float[] k = linear(ctx, b * m, a.contextDim, w(a.toK.weight), null, inner);
        float[] v = linear(ctx, b * m, a.contextDim, w(a.toV.weight), null, inner);
        float[] o = attention(q, k, v, b, n, m, a.heads, a.dimHead);
        return linear(o, b * n, inner, w(a.toOut.weight), w(a.toOut.bias), a.queryDim);
    }

    static float[] feedForward(FeedForward f, float[] x, int rows) {
        float[] p = linear(x, rows, f.dim, w(f.proj.weight), w(f.proj.bias), 2 * f.inner);
        float[] g = new float[rows * f.inner];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < f.inner; i++) {
                g[r * f.inner + i] = (float) (p[r * 2 * f.inner + i] * gelu(p[r * 2 * f.inner + f.inner + i]));
            }
        return linear(g, rows, f.inner, w(f.out.weight), w(f.out.bias), f.dim);
    }

    static float[] transformerBlock(BasicTransformerBlock t, float[] x, float[] ctx, int b, int n, int m, int d) {
        float[] n1 = layerNorm(x, b * n, d, w(t.norm1.weight), w(t.norm1.bias), 1e-5f);
        float[] h = add(x, crossAttention(t.attn1, n1, n1, b, n, n));
        h = add(h, crossAttention(t.attn2, layerNorm(h, b * n, d, w(t.norm2.weight), w(t.norm2.bias), 1e-5f), ctx, b, n, m));
        return add(h, feedForward(t.ff, layerNorm(h, b * n, d, w(t.norm3.weight), w(t.norm3.bias), 1e-5f), b * n));
    }

    /** ResnetBlock2D on x (B, in, H, W), temb (B, T) or null. */
    static float[] resnet(ResnetBlock2D r, float[] x, float[] temb, int b, int h, int wd) {
        int s = h * wd;
        float[] a = silu(groupNorm(x, b, r.in, s, r.norm1.groups, w(r.norm1.weight), w(r.norm1.bias), r.norm1.eps));
        float[] y = conv2d(a, b, r.in, h, wd, w(r.conv1.weight), w(r.conv1.bias), r.out, 3, 1, 1, 1);
        if (r.timeEmbProj != null) {
            float[] t = linear(silu(temb), b, r.timeEmbProj.in, w(r.timeEmbProj.weight), w(r.timeEmbProj.bias), r.out);
            for (int n = 0; n < b; n++)
                for (int c = 0; c < r.out; c++)
                    for (int i = 0; i < s; i++) y[(n * r.out + c) * s + i] += t[n * r.out + c];
        }
        y = silu(groupNorm(y, b, r.out, s, r.norm2.groups, w(r.norm2.weight), w(r.norm2.bias), r.norm2.eps));
        y = conv2d(y, b, r.out, h, wd, w(r.conv2.weight), w(r.conv2.bias), r.out, 3, 1, 1, 1);
        float[] sc = r.convShortcut == null ? x
                : conv2d(x, b, r.in, h, wd, w(r.convShortcut.weight), w(r.convShortcut.bias), r.out, 1, 1, 0, 0);
        return add(y, sc);
    }
}
