package dev.edgegen.text;

import java.util.Map;
import dev.edgegen.nn.Parameter;

/** The CLIP text transformer written as plain float loops over the model's parameters: the reference for tests. */
final class ClipTextReference {
    private ClipTextReference() {}

    /** ids (b·n) → last hidden state (b·n·D) after all but {@code skipLast} layers and the final LayerNorm. */
    static float[] forward(ClipTextModel m, long[] ids, int b, int n, int skipLast) {
        ClipTextConfig c = m.config;
        Map<String, Parameter> p = m.parameters();
        int d = c.hiddenSize();
        float[] tokEmb = w(p, "text_model.embeddings.token_embedding.weight");
        float[] posEmb = w(p, "text_model.embeddings.position_embedding.weight");
        float[][] x = new float[b * n][d];
        for (int t = 0; t < b * n; t++) {
            for (int j = 0; j < d; j++) {
                x[t][j] = tokEmb[(int) ids[t] * d + j] + posEmb[(t % n) * d + j];
            }
        }
        for (int l = 0; l < c.numHiddenLayers() - skipLast; l++) {
            String pre = "text_model.encoder.layers." + l + ".";
            float[][] h = layerNorm(x, w(p, pre + "layer_norm1.weight"), w(p, pre + "layer_norm1.bias"), c.layerNormEps());
            float[][] q = linear(h, p, pre + "self_attn.q_proj");
            float[][] k = linear(h, p, pre + "self_attn.k_proj");
            float[][] v = linear(h, p, pre + "self_attn.v_proj");
            float[][] a = attention(q, k, v, b, n, c.numAttentionHeads());
            add(x, linear(a, p, pre + "self_attn.out_proj"));
            h = layerNorm(x, w(p, pre + "layer_norm2.weight"), w(p, pre + "layer_norm2.bias"), c.layerNormEps());
            float[][] f = linear(h, p, pre + "mlp.fc1");
            for (float[] row : f) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = c.hiddenAct() == ClipTextConfig.Activation.QUICK_GELU
                            ? (float) (row[j] / (1 + Math.exp(-1.702 * row[j])))
                            : (float) (0.5 * row[j] * (1 + erf(row[j] / Math.sqrt(2))));
                }
            }
            add(x, linear(f, p, pre + "mlp.fc2"));
        }
        float[][] y = layerNorm(x, w(p, "text_model.final_layer_norm.weight"), w(p, "text_model.final_layer_norm.bias"), c.layerNormEps());
        float[] out = new float[b * n * d];
        for (int t = 0; t < b * n; t++) {
            System.arraycopy(y[t], 0, out, t * d, d);
        }
        return out;
    }

    private static float[] w(Map<String, Parameter> p, String key) {
        return p.get(key).get().toFloatArray();
    }

    private static void add(float[][] x, float[][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] += y[i][j];
            }
        }
    }

    private static float[][] layerNorm(float[][] x, float[] g, float[] beta, float eps) {
        float[][] y = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            int d = x[i].length;
            double mean = 0;
            for (float v : x[i]) {
                mean += v;
            }
            mean /= d;
            double var = 0;
            for (float v : x[i]) {
                var += (v - mean) * (v - mean);
            }
            var /= d;
            y[i] = new float[d];
            for (int j = 0; j < d; j++) {
                y[i][j] = (float) ((x[i][j] - mean) / Math.sqrt(var + eps) * g[j] + beta[j]);
            }
        }
        return y;
    }

    private static float[][] linear(float[][] x, Map<String, Parameter> p, String name) {
        float[] weight = w(p, name + ".weight");
        float[] bias = w(p, name + ".bias");
        int out = bias.length;
        int in = x[0].length;
        float[][] y = new float[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int j = 0; j < in; j++) {
                    s += x[i][j] * weight[o * in + j];
                }
                y[i][o] = (float) s;
            }
        }
        return y;
    }

    /** Causal softmax(q kᵀ / √dh) v per sequence and head; rows are (sequence, position). */
    private static float[][] attention(float[][] q, float[][] k, float[][] v, int b, int n, int heads) {
        int d = q[0].length;
        int dh = d / heads;
        float[][] out = new float[b * n][d];
        for (int s = 0; s < b; s++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    double[] score = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int e = 0; e < dh; e++) {
                            dot += q[s * n + i][h * dh + e] * k[s * n + j][h * dh + e];
                        }
                        score[j] = dot / Math.sqrt(dh);
                        max = Math.max(max, score[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        score[j] = Math.exp(score[j] - max);
                        sum += score[j];
                    }
                    for (int e = 0; e < dh; e++) {
                        double acc = 0;
                        for (int j = 0; j <= i; j++) {
                            acc += score[j] / sum * v[s * n + j][h * dh + e];
                        }
                        out[s * n + i][h * dh + e] = (float) acc;
                    }
                }
            }
        }
        return out;
    }

    /** erf to ~1e-7 (Abramowitz and Stegun 7.1.26 is too coarse near 0; this is Numerical Recipes' erfc Chebyshev fit). */
    private static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - r : r - 1;
    }
}
