package dev.edgegen.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgegen.data.Scene;
import dev.edgegen.data.Scene.Colour;
import dev.edgegen.data.Scene.ShapeKind;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.eval.PromptFollowing.Judgement;
import dev.edgegen.eval.PromptFollowing.Summary;
import dev.edgegen.eval.SceneClassifier.Detection;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptFollowingTest {
    /** "a red star to the left of a green circle": the first pair is held out. */
    private static final Scene TWO = new Scene(Scene.Background.values()[0], List.of(
            new Scene.Obj(ShapeKind.STAR, Colour.RED, Scene.Size.SMALL, 16, 32, 8),
            new Scene.Obj(ShapeKind.CIRCLE, Colour.GREEN, Scene.Size.SMALL, 48, 32, 8)), Scene.Relation.LEFT_OF);

    private static Detection at(Colour c, ShapeKind k, double cx) {
        return new Detection(c, k, cx, 32, 0.9);
    }

    @Test
    void pairBreakdownTellsTheHeldOutPairFromASwap() {
        assertTrue(SyntheticScenes.isHeldOut(Colour.RED, ShapeKind.STAR));
        Judgement right = PromptFollowing.judge(TWO, List.of(at(Colour.RED, ShapeKind.STAR, 16), at(Colour.GREEN, ShapeKind.CIRCLE, 48)));
        assertTrue(right.colourAndShape() && right.firstPair() && right.otherPairs() && right.relation());
        assertFalse(right.swapped());

        // colours bound to the wrong shapes: every colour and shape is there, no asked pair is
        Judgement swapped = PromptFollowing.judge(TWO, List.of(at(Colour.GREEN, ShapeKind.STAR, 16), at(Colour.RED, ShapeKind.CIRCLE, 48)));
        assertTrue(swapped.colour() && swapped.shape());
        assertFalse(swapped.colourAndShape() || swapped.firstPair() || swapped.otherPairs());
        assertTrue(swapped.swapped());

        // the seen pair drawn, the held-out one drawn as a seen pair of its colour
        Judgement firstMissed = PromptFollowing.judge(TWO, List.of(at(Colour.RED, ShapeKind.CIRCLE, 16), at(Colour.GREEN, ShapeKind.CIRCLE, 48)));
        assertFalse(firstMissed.firstPair() || firstMissed.swapped());
        assertTrue(firstMissed.otherPairs());

        Summary s = Summary.of(List.of(right, swapped, firstMissed));
        assertEquals(1 / 3.0, s.colourAndShape(), 1e-12);
        assertEquals(1 / 3.0, s.firstPair(), 1e-12);
        assertEquals(2 / 3.0, s.otherPairs(), 1e-12);
        assertEquals(1 / 3.0, s.swapped(), 1e-12);
    }

    @Test
    void oneObjectPromptsHaveNoPairBreakdown() {
        Scene one = SyntheticScenes.scene(SyntheticScenes.Split.HELD_OUT, 0, 1);
        Scene.Obj o = one.objects().get(0);
        Judgement j = PromptFollowing.judge(one, List.of(at(o.colour(), o.shape(), o.cx())));
        assertTrue(j.colourAndShape());
        assertNull(j.firstPair());
        assertNull(j.swapped());
        Summary s = Summary.of(List.of(j));
        assertTrue(Double.isNaN(s.firstPair()) && Double.isNaN(s.otherPairs()) && Double.isNaN(s.swapped()) && Double.isNaN(s.relation()));
        assertEquals(1.0, s.colourAndShape());
    }
}
