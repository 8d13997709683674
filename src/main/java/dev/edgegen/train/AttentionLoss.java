package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.text.MiniLmTextEncoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A token-level attention loss in the manner of TokenCompose (Wang et al., CVPR 2024): in a synthetic scene the
 * colour and shape words of each object should attend to where that object is. For every such token j of a caption
 * and every recorded cross-attention map A (B, N, M) of the UNet ({@link dev.edgegen.nn.AttentionMaps}), the term is
 * 1 − Σ_p A[p, j]·mask(p) / Σ_p A[p, j], the share of the token's attention mass (over the N positions) that falls
 * outside the object's mask at that map's resolution; the loss is the mean over the terms. Samples without a scene
 * (emoji) and captions dropped for classifier-free guidance contribute nothing.
 *
 * <p>Object words are found as token sequences: the ids of "colour shape" inside the caption's ids (so a phrase cut
 * off by the token limit is skipped). Two objects with the same phrase both claim its tokens (the union of masks).
 */
public final class AttentionLoss {
    /** Side of the grid object masks are computed on (each cell the mean of 2x2 point samples); maps must divide it. */
    static final int GRID = 16;

    private final Function<String, MiniLmTextEncoder.Tokens> tokenizer;
    private final Map<String, int[]> captionIds = new ConcurrentHashMap<>();
    private final Map<String, int[]> wordIds = new ConcurrentHashMap<>();

    /** {@code tokenizer}: the text encoder's, e.g. {@link MiniLmTextEncoder#tokenizeOne} ([CLS] … [SEP], padded or cut). */
    public AttentionLoss(Function<String, MiniLmTextEncoder.Tokens> tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Per sample, the supervised tokens and their masks ({@link #GRID}² values, row-major); empty when none. */
    public record Targets(List<Map<Integer, float[]>> perSample) {
        public boolean isEmpty() { return perSample.stream().allMatch(Map::isEmpty); }
    }

    /** captions (after CFG dropout) and scenes (null entries: no scene) of a batch → its targets. */
    public Targets targets(List<String> captions, List<Scene> scenes) {
        List<Map<Integer, float[]>> out = new ArrayList<>();
        for (int i = 0; i < captions.size(); i++) {
            Scene s = scenes == null ? null : scenes.get(i);
            String c = captions.get(i);
            Map<Integer, float[]> tokens = new TreeMap<>();
            if (s != null && !c.isEmpty()) {
                int[] ids = captionIds.computeIfAbsent(c, k -> tokenizer.apply(k).ids());
                for (Scene.Obj o : s.objects()) {
                    int[] colour = word(o.colour().word()), shape = word(o.shape().word());
                    int[] phrase = concat(colour, shape);
                    float[] mask = null;
                    for (int at = 0; at + phrase.length <= ids.length; at++) {
                        if (!Arrays.equals(ids, at, at + phrase.length, phrase, 0, phrase.length)) continue;
                        if (mask == null) mask = mask(o);
                        for (int j = at; j < at + phrase.length; j++) {
                            tokens.merge(j, mask.clone(), (a, b) -> {
                                for (int p = 0; p < a.length; p++) a[p] = Math.max(a[p], b[p]);
                                return a;
                            });
                        }
                    }
                }
            }
            out.add(tokens);
        }
        return new Targets(out);
    }

    /**
     * The loss of {@code maps} (each (B, N, M), N = s² with s dividing {@link #GRID}) against {@code targets}; a scalar in
     * the maps' first manager. Gradients flow into the maps.
     */
    public NDArray loss(List<NDArray> maps, Targets targets) {
        if (maps.isEmpty()) throw new IllegalArgumentException("no attention maps were recorded: the UNet has no cross-attention");
        NDArray total = null;
        for (NDArray a : maps) {
            Shape sh = a.getShape();
            int b = (int) sh.get(0), n = (int) sh.get(1), m = (int) sh.get(2);
            int side = (int) Math.round(Math.sqrt(n));
            if (side * side != n || GRID % side != 0 || b != targets.perSample().size()) {
                throw new IllegalArgumentException("attention map " + sh + " does not fit " + targets.perSample().size()
                        + " samples on a square grid dividing " + GRID);
            }
            float[] t = new float[b * n * m];   // (B, N, M): the mask of token j at position p
            float[] sel = new float[b * m];     // (B, M): 1 for supervised tokens
            int count = 0;
            for (int i = 0; i < b; i++) {
                for (Map.Entry<Integer, float[]> e : targets.perSample().get(i).entrySet()) {
                    int j = e.getKey();
                    if (j >= m) continue;
                    sel[i * m + j] = 1;
                    count++;
                    float[] pooled = pool(e.getValue(), side);
                    for (int p = 0; p < n; p++) t[(i * n + p) * m + j] = pooled[p];
                }
            }
            NDManager mgr = a.getManager();
            NDArray inside = a.mul(mgr.create(t, sh)).sum(new int[] {1});                     // (B, M)
            NDArray mass = a.sum(new int[] {1}).add(1e-8f);                                   // (B, M)
            NDArray s = mgr.create(sel, new Shape(b, m));
            NDArray term = inside.div(mass).neg().add(1f).mul(s).sum().div((float) Math.max(count, 1));
            total = total == null ? term : total.add(term);
        }
        return total.div(maps.size());
    }

    private int[] word(String w) {
        return wordIds.computeIfAbsent(w, k -> {
            MiniLmTextEncoder.Tokens t = tokenizer.apply(k);
            return Arrays.copyOfRange(t.ids(), 1, t.count() - 1);                                 // without [CLS] and [SEP]
        });
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** The object's coverage of each cell of a {@link #GRID}² grid over the 64x64 image. */
    static float[] mask(Scene.Obj o) {
        java.awt.Shape outline = SyntheticScenes.outline(o.shape(), o.cx(), o.cy(), o.radius());
        float[] m = new float[GRID * GRID];
        double cell = (double) SyntheticScenes.SIZE / GRID;
        for (int y = 0; y < GRID; y++) {
            for (int x = 0; x < GRID; x++) {
                int in = 0;
                for (int sy = 0; sy < 2; sy++) {
                    for (int sx = 0; sx < 2; sx++) {
                        if (outline.contains((x + (sx + 0.5) / 2) * cell, (y + (sy + 0.5) / 2) * cell)) in++;
                    }
                }
                m[y * GRID + x] = in / 4f;
            }
        }
        return m;
    }

    /** Mean-pools a {@link #GRID}² mask to side². */
    static float[] pool(float[] mask, int side) {
        int f = GRID / side;
        float[] out = new float[side * side];
        for (int y = 0; y < GRID; y++) {
            for (int x = 0; x < GRID; x++) out[(y / f) * side + x / f] += mask[y * GRID + x] / (f * f);
        }
        return out;
    }
}
