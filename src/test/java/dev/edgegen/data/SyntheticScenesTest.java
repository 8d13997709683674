package dev.edgegen.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgegen.data.Scene.Colour;
import dev.edgegen.data.Scene.Obj;
import dev.edgegen.data.Scene.ShapeKind;
import dev.edgegen.data.SyntheticScenes.CountMix;
import dev.edgegen.data.SyntheticScenes.Split;
import java.awt.image.BufferedImage;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SyntheticScenesTest {
    @Test
    void scenesAreDeterministicPerSplitAndIndex() {
        Sample a = SyntheticScenes.sample(Split.TRAIN, 123, 0, new Random(1));
        Sample b = SyntheticScenes.sample(Split.TRAIN, 123, 0, new Random(1));
        assertArrayEquals(a.pixels(), b.pixels());
        assertEquals(a.caption(), b.caption());
        assertEquals(a.scene(), b.scene());
        assertNotEquals(SyntheticScenes.scene(Split.VAL, 123, 0), SyntheticScenes.scene(Split.TRAIN, 123, 0));
        assertEquals(3 * 64 * 64, a.pixels().length);
    }

    @Test
    void theObjectCountMixIsASettingWhoseDefaultKeepsTheOldDraws() {
        int[] counts = new int[4];
        for (int i = 0; i < 2000; i++) counts[SyntheticScenes.scene(Split.TRAIN, i, new CountMix(1, 3, 0)).count()]++;
        assertEquals(0, counts[3]);
        assertEquals(0.75, counts[2] / 2000.0, 0.03);
        // the rule before the mix was a setting: u < 0.4 -> 1, u < 0.8 -> 2, else 3 (runs so far saw these scenes)
        double[] u = {0, 0.3999, 0.4, 0.7999, 0.8, 0.9999};
        int[] old = {1, 1, 2, 2, 3, 3};
        for (int k = 0; k < u.length; k++) assertEquals(old[k], CountMix.DEFAULT.count(u[k]), "u = " + u[k]);
        assertThrows(IllegalArgumentException.class, () -> new CountMix(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new CountMix(1, -1, 0));
    }

    @Test
    void heldOutPairsNeverAppearInTrainingAndAlwaysInHeldOut() {
        Set<String> seenPairs = new HashSet<>();
        EnumSet<Colour> colours = EnumSet.noneOf(Colour.class);
        EnumSet<ShapeKind> shapes = EnumSet.noneOf(ShapeKind.class);
        int[] counts = new int[4];
        for (int i = 0; i < 3000; i++) {
            Scene s = SyntheticScenes.scene(i % 2 == 0 ? Split.TRAIN : Split.VAL, i, 0);
            counts[s.count()]++;
            for (Obj o : s.objects()) {
                assertFalse(SyntheticScenes.isHeldOut(o.colour(), o.shape()), "held-out pair in training: " + o);
                assertTrue(s.background().shows(o.colour()));
                seenPairs.add(o.colour() + " " + o.shape());
                colours.add(o.colour());
                shapes.add(o.shape());
            }
        }
        assertEquals(EnumSet.allOf(Colour.class), colours, "every colour is trained");
        assertEquals(EnumSet.allOf(ShapeKind.class), shapes, "every shape is trained");
        assertEquals(70 - SyntheticScenes.HELD_OUT.size(), seenPairs.size(), "every other pair occurs");
        assertTrue(counts[1] > 1000 && counts[2] > 1000 && counts[3] > 400, java.util.Arrays.toString(counts));
        for (int i = 0; i < 300; i++) {
            Scene s = SyntheticScenes.scene(Split.HELD_OUT, i, 1 + i % 3);
            Obj first = s.objects().get(0);
            assertTrue(SyntheticScenes.isHeldOut(first.colour(), first.shape()), s.toString());
        }
    }

    @Test
    void captionsAndRenderingsAgreeWithTheScene() {
        Random rng = new Random(3);
        for (int i = 0; i < 400; i++) {
            Scene s = SyntheticScenes.scene(Split.TRAIN, i, 0);
            String caption = SyntheticScenes.caption(s, rng);
            for (Obj o : s.objects()) {
                assertTrue(caption.contains(o.colour().word() + " " + o.shape().word()), caption + " vs " + s);
            }
            if (s.count() == 2) {
                assertTrue(SyntheticScenes.satisfies(s.objects().get(0), s.objects().get(1), s.relation()));
                if (caption.contains("left")) {
                    Obj leftObj = s.relation() == Scene.Relation.LEFT_OF ? s.objects().get(0) : s.objects().get(1);
                    Obj rightObj = leftObj == s.objects().get(0) ? s.objects().get(1) : s.objects().get(0);
                    assertTrue(leftObj.cx() < rightObj.cx(), caption + " vs " + s);
                }
            }
            if (s.count() == 1 && caption.contains("on the left")) assertTrue(s.objects().get(0).cx() < 64 / 3.0, caption);
            if (s.count() == 1 && caption.contains("at the bottom")) assertTrue(s.objects().get(0).cy() > 128 / 3.0, caption);
            BufferedImage img = SyntheticScenes.render(s, new Random(i));
            for (Obj o : s.objects()) {
                int rgb = img.getRGB((int) o.cx(), (int) o.cy());
                Colour c = o.colour();
                int dr = Math.abs((rgb >> 16 & 255) - c.r), dg = Math.abs((rgb >> 8 & 255) - c.g), db = Math.abs((rgb & 255) - c.b);
                assertTrue(dr <= 14 && dg <= 14 && db <= 14, "centre of " + o + " has colour " + Integer.toHexString(rgb));
            }
        }
        assertEquals("a red star to the left of a blue square", SyntheticScenes.prompt(new Scene(Scene.Background.WHITE,
                java.util.List.of(new Obj(ShapeKind.STAR, Colour.RED, Scene.Size.SMALL, 10, 30, 8),
                        new Obj(ShapeKind.SQUARE, Colour.BLUE, Scene.Size.SMALL, 50, 30, 8)), Scene.Relation.LEFT_OF)));
        assertEquals("an orange circle", SyntheticScenes.phrase(new Obj(ShapeKind.CIRCLE, Colour.ORANGE, Scene.Size.LARGE, 32, 32, 15), false));
        assertThrows(IllegalArgumentException.class, () -> SyntheticScenes.scene(Split.TRAIN, 0, 4));
    }

    @Test
    void swappingColoursExchangesTheColourWordsOfTheTwoObjectsAndFixesTheArticles() {
        Obj star = new Obj(ShapeKind.STAR, Colour.RED, Scene.Size.SMALL, 14, 30, 8);
        Obj square = new Obj(ShapeKind.SQUARE, Colour.ORANGE, Scene.Size.LARGE, 44, 30, 14);
        Scene s = new Scene(Scene.Background.WHITE, java.util.List.of(star, square), Scene.Relation.LEFT_OF);
        assertEquals("an orange star to the left of a red square",
                SyntheticScenes.swapColours("a red star to the left of an orange square", s).orElseThrow());
        assertEquals("a large red square right of a small orange star on a white background",
                SyntheticScenes.swapColours("a large orange square right of a small red star on a white background", s).orElseThrow());
        assertEquals("an orange star and a red square", SyntheticScenes.swapColours("a red star and an orange square", s).orElseThrow());
        // every training caption of a two-object scene names both objects, so each has a swap
        for (long i = 0; i < 200; i++) {
            Scene t = SyntheticScenes.scene(Split.TRAIN, i, 2);
            Obj a = t.objects().get(0), b = t.objects().get(1);
            String caption = SyntheticScenes.caption(t, new Random(i));
            var swapped = SyntheticScenes.swapColours(caption, t);
            assertEquals(a.colour() != b.colour() && a.shape() != b.shape(), swapped.isPresent(), caption);
            swapped.ifPresent(w -> assertTrue(w.contains(b.colour().word() + " " + a.shape().word())
                    && w.contains(a.colour().word() + " " + b.shape().word()), caption + " -> " + w));
        }
        // nothing to exchange: one object, equal colours, equal shapes, or a caption that does not name the pairs
        Scene one = new Scene(Scene.Background.WHITE, java.util.List.of(star), null);
        assertTrue(SyntheticScenes.swapColours("a red star", one).isEmpty());
        Obj redSquare = new Obj(ShapeKind.SQUARE, Colour.RED, Scene.Size.LARGE, 44, 30, 14);
        assertTrue(SyntheticScenes.swapColours("a red star left of a red square",
                new Scene(Scene.Background.WHITE, java.util.List.of(star, redSquare), Scene.Relation.LEFT_OF)).isEmpty());
        Obj orangeStar = new Obj(ShapeKind.STAR, Colour.ORANGE, Scene.Size.LARGE, 44, 30, 14);
        assertTrue(SyntheticScenes.swapColours("a red star left of an orange star",
                new Scene(Scene.Background.WHITE, java.util.List.of(star, orangeStar), Scene.Relation.LEFT_OF)).isEmpty());
        assertTrue(SyntheticScenes.swapColours("two shapes", s).isEmpty());
    }

    @Test
    void leaksGiveBothObjectsOneObjectsColourOrShape() {
        Obj star = new Obj(ShapeKind.STAR, Colour.RED, Scene.Size.SMALL, 14, 30, 8);
        Obj square = new Obj(ShapeKind.SQUARE, Colour.ORANGE, Scene.Size.LARGE, 44, 30, 14);
        Scene s = new Scene(Scene.Background.WHITE, java.util.List.of(star, square), Scene.Relation.LEFT_OF);
        String c = "a small red star to the left of an orange square";
        assertEquals("a small red star to the left of a red square",
                SyntheticScenes.rebind(c, s, SyntheticScenes.Rebinding.COLOUR_LEAK, true).orElseThrow());
        assertEquals("a small orange star to the left of an orange square",
                SyntheticScenes.rebind(c, s, SyntheticScenes.Rebinding.COLOUR_LEAK, false).orElseThrow());
        assertEquals("a small red star to the left of an orange star",
                SyntheticScenes.rebind(c, s, SyntheticScenes.Rebinding.SHAPE_LEAK, true).orElseThrow());
        assertEquals("a small red square to the left of an orange square",
                SyntheticScenes.rebind(c, s, SyntheticScenes.Rebinding.SHAPE_LEAK, false).orElseThrow());
        assertEquals(SyntheticScenes.swapColours(c, s), SyntheticScenes.rebind(c, s, SyntheticScenes.Rebinding.SWAP, false));
        // the caption's words follow the pairs rebound() names, for every kind and direction
        for (long i = 0; i < 100; i++) {
            Scene t = SyntheticScenes.scene(Split.TRAIN, i, 2);
            String caption = SyntheticScenes.caption(t, new Random(i));
            for (SyntheticScenes.Rebinding kind : SyntheticScenes.Rebinding.values()) {
                for (boolean first : new boolean[] {true, false}) {
                    var r = SyntheticScenes.rebind(caption, t, kind, first);
                    assertEquals(SyntheticScenes.swapColours(caption, t).isPresent(), r.isPresent(), caption);
                    if (r.isEmpty()) continue;
                    assertNotEquals(caption, r.get(), kind + " changes the caption");
                    for (SyntheticScenes.Pair p : SyntheticScenes.rebound(t, kind, first)) {
                        assertTrue(r.get().contains(p.colour().word() + " " + p.shape().word()), caption + " -> " + r.get());
                    }
                }
            }
        }
    }
}
