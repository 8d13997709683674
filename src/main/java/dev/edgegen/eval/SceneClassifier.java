package dev.edgegen.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.edgegen.data.Scene;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.GroupNorm;
import dev.edgegen.nn.Module;
import java.util.ArrayList;
import java.util.List;

/**
 * The attribute classifier behind prompt-following accuracy: a small CNN that maps a 64x64 image
 * to an 8x8 grid (one cell per 8x8 pixels) predicting, per cell, whether an object's centre lies
 * there (objectness), its colour (10), its shape (7) and the centre's offset inside the cell.
 * Decoding turns the grid into a list of objects, from which colour, shape, 3x3 position, count
 * and pairwise relations are read (a one-stage detector in the style of YOLO, Redmon et al. 2016).
 */
public final class SceneClassifier extends Module {
    public static final int GRID = 8;
    public static final int COLOURS = Scene.Colour.values().length;
    public static final int SHAPES = Scene.ShapeKind.values().length;
    /** Output channels: objectness, colours, shapes, dx, dy. */
    public static final int OUT = 1 + COLOURS + SHAPES + 2;

    private final List<Conv2d> convs = new ArrayList<>();
    private final List<GroupNorm> norms = new ArrayList<>();
    private final Conv2d head;

    public SceneClassifier() {
        int[][] layers = { // in, out, stride: 64 → 32 → 16 → 8, then two 8x8 layers for a 47-px receptive field
            {3, 32, 2}, {32, 64, 2}, {64, 64, 2}, {64, 64, 1}, {64, 64, 1}};
        for (int i = 0; i < layers.length; i++) {
            convs.add(register("conv" + i, new Conv2d(layers[i][0], layers[i][1], 3, layers[i][2], 1)));
            norms.add(register("norm" + i, new GroupNorm(8, layers[i][1], 1e-5f)));
        }
        head = register("head", new Conv2d(64, OUT, 1, 1, 0));
    }

    /** images (B, 3, 64, 64) in [-1, 1] → raw grid (B, OUT, 8, 8). */
    public NDArray forward(NDArray images) {
        if (images.getShape().dimension() != 4 || images.getShape().get(1) != 3
                || images.getShape().get(2) != 64 || images.getShape().get(3) != 64) {
            throw new IllegalArgumentException("the scene classifier takes (B, 3, 64, 64) images, got " + images.getShape());
        }
        NDArray h = images;
        for (int i = 0; i < convs.size(); i++) {
            h = norms.get(i).forwardSilu(convs.get(i).forward(h));
        }
        return head.forward(h);
    }

    /** A detected object: attributes, centre in pixels and objectness probability. */
    public record Detection(Scene.Colour colour, Scene.ShapeKind shape, double cx, double cy, double score) {
        /** Cell of the 3x3 position grid, as {@link Scene.Obj#cell()}. */
        public int cell() {
            int col = Math.min(2, Math.max(0, (int) (cx * 3 / 64)));
            int row = Math.min(2, Math.max(0, (int) (cy * 3 / 64)));
            return row * 3 + col;
        }
    }

    /** Objects of each image: cells whose objectness exceeds {@code threshold} and is a 3x3 local maximum. */
    public static List<List<Detection>> decode(NDArray grid, double threshold) {
        long b = grid.getShape().get(0);
        float[] v = grid.toFloatArray();
        int plane = GRID * GRID;
        List<List<Detection>> out = new ArrayList<>();
        for (int n = 0; n < b; n++) {
            int base = (int) (n * OUT * plane);
            List<Detection> dets = new ArrayList<>();
            for (int y = 0; y < GRID; y++) {
                for (int x = 0; x < GRID; x++) {
                    float o = v[base + y * GRID + x];
                    double p = 1 / (1 + Math.exp(-o));
                    if (p < threshold || !localMax(v, base, x, y, o)) continue;
                    int colour = argmax(v, base, 1, COLOURS, x, y);
                    int shape = argmax(v, base, 1 + COLOURS, SHAPES, x, y);
                    double dx = sigmoid(v[base + (1 + COLOURS + SHAPES) * plane + y * GRID + x]);
                    double dy = sigmoid(v[base + (2 + COLOURS + SHAPES) * plane + y * GRID + x]);
                    dets.add(new Detection(Scene.Colour.values()[colour], Scene.ShapeKind.values()[shape],
                            (x + dx) * 8, (y + dy) * 8, p));
                }
            }
            dets.sort((a, c) -> Double.compare(c.score(), a.score()));
            out.add(dets);
        }
        return out;
    }

    private static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }

    private static boolean localMax(float[] v, int base, int x, int y, float o) {
        for (int yy = Math.max(0, y - 1); yy <= Math.min(GRID - 1, y + 1); yy++) {
            for (int xx = Math.max(0, x - 1); xx <= Math.min(GRID - 1, x + 1); xx++) {
                float q = v[base + yy * GRID + xx];
                if (q > o || (q == o && (yy * GRID + xx) < y * GRID + x)) return false;
            }
        }
        return true;
    }

    private static int argmax(float[] v, int base, int first, int count, int x, int y) {
        int plane = GRID * GRID;
        int best = 0;
        for (int c = 1; c < count; c++) {
            if (v[base + (first + c) * plane + y * GRID + x] > v[base + (first + best) * plane + y * GRID + x]) best = c;
        }
        return best;
    }

    /** Training targets for a batch of scenes: (B, OUT, 8, 8) with one-hot colour/shape and offsets at object cells, and a (B, 1, 8, 8) object mask. */
    public static float[][] targets(List<Scene> scenes) {
        int plane = GRID * GRID;
        float[] t = new float[scenes.size() * OUT * plane];
        float[] mask = new float[scenes.size() * plane];
        for (int n = 0; n < scenes.size(); n++) {
            int base = n * OUT * plane;
            for (Scene.Obj o : scenes.get(n).objects()) {
                int x = Math.min(GRID - 1, (int) (o.cx() / 8));
                int y = Math.min(GRID - 1, (int) (o.cy() / 8));
                int cell = y * GRID + x;
                t[base + cell] = 1;
                t[base + (1 + o.colour().ordinal()) * plane + cell] = 1;
                t[base + (1 + COLOURS + o.shape().ordinal()) * plane + cell] = 1;
                t[base + (1 + COLOURS + SHAPES) * plane + cell] = (float) (o.cx() / 8 - x);
                t[base + (2 + COLOURS + SHAPES) * plane + cell] = (float) (o.cy() / 8 - y);
                mask[n * plane + cell] = 1;
            }
        }
        return new float[][] {t, mask};
    }

    /**
     * Loss of raw grid (B, OUT, 8, 8) against {@link #targets}: objectness BCE (positives weighted
     * ×{@code posWeight}) + colour and shape cross-entropy + offset BCE, the last three at object cells only.
     */
    public static NDArray loss(NDArray grid, NDArray target, NDArray mask, float posWeight) {
        long b = grid.getShape().get(0);
        NDList parts = grid.split(new long[] {1, 1 + COLOURS, 1 + COLOURS + SHAPES}, 1);
        NDList tparts = target.split(new long[] {1, 1 + COLOURS, 1 + COLOURS + SHAPES}, 1);
        NDArray obj = parts.get(0), objT = tparts.get(0);                                 // (B, 1, 8, 8)
        NDArray weight = objT.mul(posWeight - 1).add(1);
        NDArray objLoss = bce(obj, objT).mul(weight).sum().div(b);
        NDArray colourLoss = parts.get(1).logSoftmax(1).mul(tparts.get(1)).sum().neg().div(b);
        NDArray shapeLoss = parts.get(2).logSoftmax(1).mul(tparts.get(2)).sum().neg().div(b);
        NDArray offsetLoss = bce(parts.get(3), tparts.get(3)).mul(mask).sum().div(b);
        return objLoss.add(colourLoss).add(shapeLoss).add(offsetLoss);
    }

    /** Element-wise binary cross-entropy with logits: max(x, 0) − x·z + log(1 + e^(−|x|)). */
    static NDArray bce(NDArray x, NDArray z) {
        return x.maximum(0f).sub(x.mul(z)).add(x.abs().neg().exp().add(1f).log());
    }
}
