package dev.edgegen.nelf.scene;

import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.RgbImage;

/**
 * A z-buffer software rasteriser for {@link Mesh}es with Blinn-Phong shading under two fixed
 * world-space lights (so specular highlights move with the viewpoint), texture lookup, a white
 * background, and anti-aliasing by {@code ss x ss} supersampling. Attributes are interpolated
 * perspective-correctly. Output colour is premultiplied by coverage and the alpha is coverage,
 * so compositing over white gives the white-background image.
 */
public final class Rasterizer {
    private static final float[][] LIGHTS = {{0.4f, -0.5f, 0.77f}, {-0.6f, 0.5f, 0.3f}};
    private static final float[] LIGHT_POWER = {0.75f, 0.35f};
    private static final float AMBIENT = 0.2f;

    static {
        for (float[] l : LIGHTS) {
            float n = (float) Math.sqrt(l[0] * l[0] + l[1] * l[1] + l[2] * l[2]);
            for (int i = 0; i < 3; i++) l[i] /= n;
        }
    }

    private final Mesh mesh;
    private final int ss;

    public Rasterizer(Mesh mesh, int supersample) {
        if (supersample < 1 || supersample > 8) throw new IllegalArgumentException("supersample must be in 1..8, got " + supersample);
        this.mesh = mesh;
        this.ss = supersample;
    }

    /** Renders RGBA: rgb composited on white, and alpha = coverage, both (H*W) row-major. */
    public Result render(Camera cam) {
        int w = cam.width() * ss, h = cam.height() * ss;
        double f = cam.focal() * ss;
        double[] m = cam.c2w();
        float[] pos = mesh.positions();
        int nv = pos.length / 3;
        // world -> camera: R^T (p - t)
        float[] sx = new float[nv], sy = new float[nv], invZ = new float[nv];
        boolean[] behind = new boolean[nv];
        for (int i = 0; i < nv; i++) {
            double px = pos[3 * i] - m[3], py = pos[3 * i + 1] - m[7], pz = pos[3 * i + 2] - m[11];
            double xc = m[0] * px + m[4] * py + m[8] * pz;
            double yc = m[1] * px + m[5] * py + m[9] * pz;
            double zc = m[2] * px + m[6] * py + m[10] * pz;
            double depth = -zc;
            behind[i] = depth < 1e-3;
            sx[i] = (float) (0.5 * w + f * xc / depth);
            sy[i] = (float) (0.5 * h - f * yc / depth);
            invZ[i] = (float) (1 / depth);
        }
        float[] zbuf = new float[w * h]; // stores 1/depth, larger = nearer
        int[] triId = new int[w * h];
        float[] b1 = new float[w * h], b2 = new float[w * h];
        java.util.Arrays.fill(triId, -1);
        int[] t = mesh.triangles();
        for (int k = 0; k < t.length / 3; k++) {
            int a = t[3 * k], b = t[3 * k + 1], c = t[3 * k + 2];
            if (behind[a] || behind[b] || behind[c]) continue;
            float area = (sx[b] - sx[a]) * (sy[c] - sy[a]) - (sx[c] - sx[a]) * (sy[b] - sy[a]);
            if (Math.abs(area) < 1e-12f) continue;
            int x0 = Math.max(0, (int) Math.floor(Math.min(sx[a], Math.min(sx[b], sx[c]))));
            int x1 = Math.min(w - 1, (int) Math.ceil(Math.max(sx[a], Math.max(sx[b], sx[c]))));
            int y0 = Math.max(0, (int) Math.floor(Math.min(sy[a], Math.min(sy[b], sy[c]))));
            int y1 = Math.min(h - 1, (int) Math.ceil(Math.max(sy[a], Math.max(sy[b], sy[c]))));
            for (int y = y0; y <= y1; y++) {
                float py = y + 0.5f;
                for (int x = x0; x <= x1; x++) {
                    float px = x + 0.5f;
                    float wa = ((sx[b] - px) * (sy[c] - py) - (sx[c] - px) * (sy[b] - py)) / area;
                    float wb = ((sx[c] - px) * (sy[a] - py) - (sx[a] - px) * (sy[c] - py)) / area;
                    float wc = 1 - wa - wb;
                    if (wa < 0 || wb < 0 || wc < 0) continue;
                    float iz = wa * invZ[a] + wb * invZ[b] + wc * invZ[c];
                    int p = y * w + x;
                    if (iz > zbuf[p]) {
                        zbuf[p] = iz;
                        triId[p] = k;
                        // perspective-correct barycentrics of corners b and c
                        b1[p] = wb * invZ[b] / iz;
                        b2[p] = wc * invZ[c] / iz;
                    }
                }
            }
        }
        float[] hi = new float[w * h * 3];
        float[] cover = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                if (triId[p] < 0) continue;
                shade(triId[p], 1 - b1[p] - b2[p], b1[p], b2[p], m, hi, 3 * p);
                cover[p] = 1;
            }
        }
        int W = cam.width(), H = cam.height();
        float[] rgb = new float[W * H * 3], alpha = new float[W * H];
        float norm = 1f / (ss * ss);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                float r = 0, g = 0, bl = 0, al = 0;
                for (int dy = 0; dy < ss; dy++) {
                    for (int dx = 0; dx < ss; dx++) {
                        int p = (y * ss + dy) * w + x * ss + dx;
                        r += hi[3 * p];
                        g += hi[3 * p + 1];
                        bl += hi[3 * p + 2];
                        al += cover[p];
                    }
                }
                int q = y * W + x;
                al *= norm;
                alpha[q] = al;
                rgb[3 * q] = r * norm + (1 - al);
                rgb[3 * q + 1] = g * norm + (1 - al);
                rgb[3 * q + 2] = bl * norm + (1 - al);
            }
        }
        return new Result(new RgbImage(W, H, rgb), alpha);
    }

    /** rgb composited on white (H, W, 3) and coverage alpha (H, W). */
    public record Result(RgbImage image, float[] alpha) {}

    private void shade(int k, float wa, float wb, float wc, double[] c2w, float[] out, int o) {
        int[] t = mesh.triangles();
        float[] pos = mesh.positions(), nor = mesh.normals();
        int a = t[3 * k], b = t[3 * k + 1], c = t[3 * k + 2];
        float px = wa * pos[3 * a] + wb * pos[3 * b] + wc * pos[3 * c];
        float py = wa * pos[3 * a + 1] + wb * pos[3 * b + 1] + wc * pos[3 * c + 1];
        float pz = wa * pos[3 * a + 2] + wb * pos[3 * b + 2] + wc * pos[3 * c + 2];
        float nx = wa * nor[3 * a] + wb * nor[3 * b] + wc * nor[3 * c];
        float ny = wa * nor[3 * a + 1] + wb * nor[3 * b + 1] + wc * nor[3 * c + 1];
        float nz = wa * nor[3 * a + 2] + wb * nor[3 * b + 2] + wc * nor[3 * c + 2];
        float nl = (float) Math.sqrt(nx * nx + ny * ny + nz * nz) + 1e-12f;
        nx /= nl;
        ny /= nl;
        nz /= nl;
        float vx = (float) c2w[3] - px, vy = (float) c2w[7] - py, vz = (float) c2w[11] - pz;
        float vl = (float) Math.sqrt(vx * vx + vy * vy + vz * vz);
        vx /= vl;
        vy /= vl;
        vz /= vl;
        if (nx * vx + ny * vy + nz * vz < 0) { // two-sided
            nx = -nx;
            ny = -ny;
            nz = -nz;
        }
        Mesh.Material mat = mesh.materials().get(mesh.triangleMaterial()[k]);
        float[] kd = mat.kd().clone();
        if (mat.texture() != null && mesh.cornerUv() != null) {
            float[] uv = mesh.cornerUv();
            float u = wa * uv[6 * k] + wb * uv[6 * k + 2] + wc * uv[6 * k + 4];
            float v = wa * uv[6 * k + 1] + wb * uv[6 * k + 3] + wc * uv[6 * k + 5];
            float[] tex = sample(mat.texture(), u, v);
            kd[0] *= tex[0];
            kd[1] *= tex[1];
            kd[2] *= tex[2];
        }
        float diffuse = AMBIENT, spec = 0;
        for (int l = 0; l < LIGHTS.length; l++) {
            float[] L = LIGHTS[l];
            float ndl = nx * L[0] + ny * L[1] + nz * L[2];
            if (ndl <= 0) continue;
            diffuse += LIGHT_POWER[l] * ndl;
            float hx = L[0] + vx, hy = L[1] + vy, hz = L[2] + vz;
            float hl = (float) Math.sqrt(hx * hx + hy * hy + hz * hz) + 1e-12f;
            float ndh = (nx * hx + ny * hy + nz * hz) / hl;
            if (ndh > 0) spec += LIGHT_POWER[l] * mat.specular() * (float) Math.pow(ndh, mat.shininess());
        }
        for (int ch = 0; ch < 3; ch++) {
            out[o + ch] = Math.min(1f, kd[ch] * diffuse + spec);
        }
    }

    private static float[] sample(RgbImage tex, float u, float v) {
        float fu = u - (float) Math.floor(u), fv = v - (float) Math.floor(v);
        int x = Math.min(tex.width() - 1, (int) (fu * tex.width()));
        int y = Math.min(tex.height() - 1, (int) ((1 - fv) * tex.height()));
        int p = (y * tex.width() + x) * 3;
        return new float[] {tex.rgb()[p], tex.rgb()[p + 1], tex.rgb()[p + 2]};
    }
}
