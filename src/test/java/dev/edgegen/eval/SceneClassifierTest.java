package dev.edgegen.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SceneClassifierTest {
    /** Logits that say exactly what the targets say. */
    static NDArray perfectGrid(NDManager m, List<Scene> scenes) {
        float[] t = SceneClassifier.targets(scenes)[0];
        int plane = 64, offsetStart = (1 + SceneClassifier.COLOURS + SceneClassifier.SHAPES) * plane;
        float[] logits = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            int c = i % (SceneClassifier.OUT * plane);
            logits[i] = c >= offsetStart ? (float) Math.log((t[i] + 1e-3) / (1 - t[i] + 1e-3)) : t[i] * 20 - 10;
        }
        return m.create(logits, new Shape(scenes.size(), SceneClassifier.OUT, 8, 8));
    }

    @Test
    void decodingPerfectLogitsRecoversEveryScene() {
        try (NDManager m = NDManager.newBaseManager()) {
            List<Scene> scenes = new ArrayList<>();
            for (int i = 0; i < 60; i++) scenes.add(SyntheticScenes.scene(SyntheticScenes.Split.HELD_OUT, i, 1 + i % 3));
            List<List<SceneClassifier.Detection>> dets = SceneClassifier.decode(perfectGrid(m, scenes), 0.5);
            for (int i = 0; i < scenes.size(); i++) {
                PromptFollowing.Judgement j = PromptFollowing.judge(scenes.get(i), dets.get(i));
                assertTrue(j.colourAndShape() && j.count() && j.position(), scenes.get(i) + " → " + dets.get(i));
            }
            // a wrong colour is caught
            Scene s = scenes.get(0);
            SceneClassifier.Detection d = dets.get(0).get(0);
            Scene.Colour other = Scene.Colour.values()[(d.colour().ordinal() + 1) % 10];
            PromptFollowing.Judgement wrong = PromptFollowing.judge(s, List.of(
                    new SceneClassifier.Detection(other, d.shape(), d.cx(), d.cy(), d.score())));
            assertFalse(wrong.colour());
            assertTrue(wrong.shape());
            assertFalse(PromptFollowing.judge(s, List.of()).count());
        }
    }

    @Test
    void promptSetsAreDistinctAndHeldOut() {
        List<PromptSets.Prompt> one = PromptSets.synthetic(SyntheticScenes.Split.HELD_OUT, 1, 10);
        assertEquals(10, one.stream().map(PromptSets.Prompt::text).distinct().count());
        for (PromptSets.Prompt p : one) {
            Scene.Obj o = p.scene().objects().get(0);
            assertTrue(SyntheticScenes.isHeldOut(o.colour(), o.shape()), p.text());
            assertEquals(SyntheticScenes.prompt(p.scene()), p.text());
        }
        assertTrue(PromptSets.synthetic(SyntheticScenes.Split.HELD_OUT, 2, 50).get(0).text().matches("an? \\w+ \\w+ (to the left of|to the right of|above|below) an? \\w+ \\w+"));
        assertEquals(16, PromptSets.emojiGrid().size());
        assertThrows(IllegalArgumentException.class, () -> PromptSets.synthetic(SyntheticScenes.Split.HELD_OUT, 1, 11));
    }

    @Test
    void shortTrainingLowersTheLossAndBadInputIsRefused(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            List<Double> losses = new ArrayList<>();
            Trainer.Options o = new Trainer.Options(15, 3e-3, 3, 0.1, 0.9, 0.999, 1e-8, 0, 1, 0.9, 100, 10, 0);
            SceneClassifier model = SceneClassifierTraining.train(dir, o, 4, false, i -> losses.add(i.loss()), m);
            double first = (losses.get(0) + losses.get(1) + losses.get(2)) / 3, last = (losses.get(12) + losses.get(13) + losses.get(14)) / 3;
            assertTrue(last < 0.8 * first, first + " → " + last);
            assertThrows(IllegalArgumentException.class, () -> model.forward(m.zeros(new Shape(1, 3, 32, 32))));
            PromptFollowing.Summary s = SceneClassifierTraining.validate(model, SyntheticScenes.Split.CLASSIFIER_VAL, 1, 4, m);
            assertEquals(4, s.n());
        }
    }
}
