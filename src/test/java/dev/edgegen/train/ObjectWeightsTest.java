package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Scene;
import dev.edgegen.data.Scene.Colour;
import dev.edgegen.data.Scene.Obj;
import dev.edgegen.data.Scene.ShapeKind;
import dev.edgegen.data.SyntheticScenes;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ObjectWeightsTest {
    /** A square of side 16 px (1.7 r) centred at (20, 36): latent (16x16, 4 px cells) columns 3..6, rows 7..10. */
    private static final Scene SQUARE = new Scene(Scene.Background.WHITE,
            List.of(new Obj(ShapeKind.SQUARE, Colour.RED, Scene.Size.LARGE, 20, 36, 8 / 0.85)), null);

    private static float at(float[] w, int side, int y, int x) { return w[y * side + x]; }

    @Test
    void objectsAndTheRingAroundThemWeighOnePlusKTimesTheBackgroundAndTheMeanIsOne() {
        float[] w = ObjectWeights.of(SQUARE, 16, 3);
        double mean = 0;
        for (float v : w) mean += v / w.length;
        assertEquals(1.0, mean, 1e-5);
        float background = at(w, 16, 0, 15), inside = at(w, 16, 8, 4);
        assertEquals(4.0, inside / background, 1e-4, "inside: 1 + k times the far background");
        assertEquals(inside, at(w, 16, 8, 7), 1e-6, "one cell right of the outline: the dilation ring");
        assertEquals(background, at(w, 16, 8, 8), 1e-6, "two cells away: background");
        assertEquals(background, at(w, 16, 3, 4), 1e-6);
        float[] coarse = ObjectWeights.of(SQUARE, 8, 3);
        assertTrue(at(coarse, 8, 4, 2) > at(coarse, 8, 0, 7), "pooled to 8x8 the object still weighs more");
        for (float v : ObjectWeights.of(null, 8, 3)) assertEquals(1f, v, "no scene (emoji): 1 everywhere");
        assertThrows(IllegalArgumentException.class, () -> ObjectWeights.of(SQUARE, 6, 3));
    }

    /**
     * With zero latents the noisy input is √(1 − ᾱ_t)·ε, so a denoiser can return ε exactly plus 1 in one cell: the
     * task's loss must then be that cell's weight, averaged over the batch's scenes, over the cells of the latent.
     */
    @Test
    void theDiffusionTaskWeighsEachPositionsSquaredError() throws Exception {
        List<Scene> scenes = scenes();
        double expected = 0;
        for (Scene s : scenes) expected += at(ObjectWeights.of(s, SIDE, 3), SIDE, Y, X) / scenes.size() / (SIDE * SIDE);
        assertEquals(1.0 / (SIDE * SIDE), bumpLoss(0, Integer.MAX_VALUE, new int[4]), 1e-4 / (SIDE * SIDE), "object weight 0");
        assertEquals(expected, bumpLoss(3, Integer.MAX_VALUE, new int[4]), 1e-4 * expected, "object weight 3");
        assertTrue(Math.abs(expected - 1.0 / (SIDE * SIDE)) > 1e-4, "the chosen cell's weights differ from 1 in this batch");
    }

    /** With a max timestep, samples drawn at or above it keep weight 1 and the others are weighted. */
    @Test
    void theWeightSkipsSamplesAtOrAboveTheMaxTimestep() throws Exception {
        List<Scene> scenes = scenes();
        int[] t = new int[scenes.size()];
        bumpLoss(3, Integer.MAX_VALUE, t);                          // the timesteps this batch draws (same seed)
        int[] sorted = t.clone();
        java.util.Arrays.sort(sorted);
        int maxT = sorted[1] + 1;                                  // two or so samples below it, the rest at or above
        double expected = 0;
        boolean below = false, above = false;
        for (int i = 0; i < scenes.size(); i++) {
            boolean weighted = t[i] < maxT;
            float cell = at(ObjectWeights.of(scenes.get(i), SIDE, 3), SIDE, Y, X);
            below |= weighted && cell != 1f;
            above |= !weighted && cell != 1f;
            expected += (weighted ? cell : 1) / scenes.size() / (SIDE * SIDE);
        }
        assertTrue(below && above, "the batch has samples on both sides of the max timestep whose weight is not 1: " + java.util.Arrays.toString(t));
        assertEquals(expected, bumpLoss(3, maxT, new int[scenes.size()]), 1e-4 * expected);
    }

    private static final int SIDE = 8, Y = 4, X = 2, SEED = 11;

    private static List<Scene> scenes() throws Exception {
        try (DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 1, SEED)) {
            return loader.next().scenes();
        }
    }

    /** The task's loss with a denoiser that returns ε plus 1 in cell (Y, X); {@code ts} receives the timesteps drawn. */
    private static double bumpLoss(double k, int maxT, int[] ts) throws Exception {
        NoiseSchedule schedule = NoiseSchedule.sd();
        float[] bump = new float[4 * SIDE * SIDE];
        for (int c = 0; c < 4; c++) bump[(c * SIDE + Y) * SIDE + X] = 1;
        try (NDManager m = NDManager.newBaseManager();
             DataLoader loader = new DataLoader(SyntheticScenes.source(SyntheticScenes.Split.TRAIN), 4, 1, SEED)) {
            DiffusionTask.Denoiser exact = (noisy, t, ctx) -> {
                float[] tf = t.toFloatArray();
                float[] inv = new float[tf.length];
                for (int i = 0; i < tf.length; i++) {
                    ts[i] = (int) tf[i];
                    inv[i] = (float) (1 / Math.sqrt(1 - schedule.alphasCumprod()[ts[i]]));
                }
                return noisy.mul(m.create(inv, new Shape(tf.length, 1, 1, 1))).add(m.create(bump, new Shape(1, 4, SIDE, SIDE)));
            };
            DiffusionTask.LatentEncoder zeros = (images, rng) -> images.getManager().zeros(new Shape(images.getShape().get(0), 4, SIDE, SIDE));
            DiffusionTask.ContextEncoder text = (captions, mm) -> mm.zeros(new Shape(captions.size(), 4, 8));
            DiffusionTask task = new DiffusionTask(exact, zeros, text, loader, null, schedule,
                    DiffusionTask.Prediction.EPSILON, 0, 0).withObjectWeight(k, maxT);
            NDArray loss = task.loss(m, 0, new Random(4));
            return loss.getFloat();
        }
    }
}
