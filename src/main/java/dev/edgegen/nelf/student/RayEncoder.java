package dev.edgegen.nelf.student;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.nelf.Camera;

/**
 * The student's ray input: the camera's image grid divided by the head's upscale factor; per ray K
 * points {@code o + t_k d} with t evenly spaced over [near, far] (both ends included), each of the
 * 3·K coordinates encoded as [v, sin(2^0 v), cos(2^0 v), …, sin(2^(L-1) v), cos(2^(L-1) v)].
 * Channel order: point k, axis a, then the 2L+1 features.
 */
public final class RayEncoder {
    private RayEncoder() {}

    /** (1, 3·K·(2L+1), H/s, W/s). */
    public static NDArray encode(NDManager manager, Camera cam, StudentConfig c) {
        int s = c.totalUpscale();
        if (cam.width() % s != 0 || cam.height() % s != 0) {
            throw new IllegalArgumentException("image size " + cam.width() + "x" + cam.height()
                    + " must be a multiple of the student's upscale factor " + s);
        }
        Camera low = cam.resized(cam.width() / s, cam.height() / s);
        float[] enc = encodeRays(c.ndc() ? low.ndcRays(1.0) : low.rays(), c);
        return manager.create(enc, new Shape(1, c.inputChannels(), low.height(), low.width()));
    }

    /** Channel-major (C, h·w) encoding of the given rays. */
    public static float[] encodeRays(Camera.Rays r, StudentConfig c) {
        int n = r.width() * r.height();
        int feat = 2 * c.freqs() + 1;
        float[] out = new float[c.inputChannels() * n];
        float[] o = r.origins(), d = r.directions();
        for (int k = 0; k < c.k(); k++) {
            double t = c.near() + (c.far() - c.near()) * k / (c.k() - 1);
            for (int a = 0; a < 3; a++) {
                int base = (k * 3 + a) * feat;
                for (int p = 0; p < n; p++) {
                    double v = o[3 * p + a] + t * d[3 * p + a];
                    out[base * n + p] = (float) v;
                    double f = 1;
                    for (int l = 0; l < c.freqs(); l++, f *= 2) {
                        out[(base + 1 + 2 * l) * n + p] = (float) Math.sin(f * v);
                        out[(base + 2 + 2 * l) * n + p] = (float) Math.cos(f * v);
                    }
                }
            }
        }
        return out;
    }
}
