package dev.edgegen.data;

import dev.edgegen.data.Scene.Background;
import dev.edgegen.data.Scene.Colour;
import dev.edgegen.data.Scene.Obj;
import dev.edgegen.data.Scene.Relation;
import dev.edgegen.data.Scene.ShapeKind;
import dev.edgegen.data.Scene.Size;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * Synthetic compositional scenes: 1–3 coloured shapes on a plain background, 64x64, with a caption
 * from a small grammar with paraphrases and the ground-truth {@link Scene}.
 *
 * <p>Splits are deterministic: scene i of a split is drawn from a generator seeded by (split, i).
 * {@link #HELD_OUT} colour+shape pairs never occur in TRAIN or VAL scenes; every HELD_OUT scene
 * contains at least one of them (the first object), so prompt following can be measured on
 * compositions the model never saw. Each colour and each shape still occurs in training.
 */
public final class SyntheticScenes {
    public static final int SIZE = 64;

    /**
     * TRAIN / VAL exclude the held-out pairs; HELD_OUT scenes start with one. CLASSIFIER_TRAIN /
     * CLASSIFIER_VAL allow every pair: they train and validate the evaluation classifier, which
     * must recognise the held-out compositions the generator never saw.
     */
    public enum Split { TRAIN, VAL, HELD_OUT, CLASSIFIER_TRAIN, CLASSIFIER_VAL }

    /** Colour+shape pairs excluded from training: one per colour, every shape at most twice. */
    public static final Set<String> HELD_OUT = Set.of(
            "red star", "orange circle", "yellow heart", "green square", "blue triangle",
            "purple diamond", "pink cross", "brown circle", "black heart", "white triangle");

    private SyntheticScenes() {}

    public static boolean isHeldOut(Colour c, ShapeKind s) {
        return HELD_OUT.contains(c.word() + " " + s.word());
    }

    /** How often a mixed scene has 1, 2 or 3 objects (relative weights). */
    public record CountMix(double one, double two, double three) {
        /** 40/40/20%: the mix every run used before the mix became a setting. */
        public static final CountMix DEFAULT = new CountMix(0.4, 0.4, 0.2);

        public CountMix {
            if (!(one >= 0 && two >= 0 && three >= 0 && one + two + three > 0)) {
                throw new IllegalArgumentException("object-count weights must be >= 0 and not all 0, got "
                        + one + ", " + two + ", " + three);
            }
        }

        /** The object count at uniform draw {@code u} in [0, 1). */
        int count(double u) {
            double x = u * (one + two + three);
            return x < one ? 1 : x < one + two ? 2 : 3;
        }
    }

    /** Scene {@code index} of {@code split}, with {@code objects} objects (1–3) or 0 for the default mix. */
    public static Scene scene(Split split, long index, int objects) {
        if (objects < 0 || objects > 3) throw new IllegalArgumentException("objects must be 0 (mixed) or 1..3, got " + objects);
        return scene(split, index, objects, CountMix.DEFAULT);
    }

    /** Scene {@code index} of {@code split} with an object count drawn from {@code counts}. */
    public static Scene scene(Split split, long index, CountMix counts) {
        return scene(split, index, 0, counts);
    }

    private static Scene scene(Split split, long index, int objects, CountMix counts) {
        Random rng = new Random(mix(split.ordinal() * 0x9E3779B97F4A7C15L + 0x5DEECE66DL, index));
        int n = objects == 0 ? counts.count(rng.nextDouble()) : objects;
        Pairs pairs = switch (split) {
            case TRAIN, VAL -> Pairs.EXCLUDE_HELD_OUT;
            case HELD_OUT -> Pairs.FIRST_HELD_OUT;
            default -> Pairs.ANY;
        };
        return generate(rng, n, pairs);
    }

    enum Pairs { EXCLUDE_HELD_OUT, FIRST_HELD_OUT, ANY }

    /** A sample (image, caption with a paraphrase chosen by {@code captionRng}, truth) of scene {@code index}. */
    public static Sample sample(Split split, long index, int objects, Random captionRng) {
        return sample(split, index, scene(split, index, objects), captionRng);
    }

    private static Sample sample(Split split, long index, Scene s, Random captionRng) {
        Random jitter = new Random(mix(0xC0L + split.ordinal(), index));
        return new Sample(Images.toChw(render(s, jitter), 0), caption(s, captionRng), s);
    }

    /** An endless training source over {@code split} with the default mix of object counts. */
    public static Dataset source(Split split) {
        return source(split, CountMix.DEFAULT);
    }

    /** An endless training source over {@code split} with object counts drawn from {@code counts}. */
    public static Dataset source(Split split, CountMix counts) {
        return (position, rng) -> sample(split, position, scene(split, position, counts), rng);
    }

    static Scene generate(Random rng, int n, Pairs pairs) {
        Background bg = Background.values()[rng.nextInt(Background.values().length)];
        List<Obj> objs = new ArrayList<>();
        Relation rel = n == 2 ? Relation.values()[rng.nextInt(4)] : null;
        for (int attempt = 0; objs.size() < n; attempt++) {
            if (attempt > 1000) { // crowded: start over with a fresh layout
                objs.clear();
                attempt = 0;
            }
            boolean mustHoldOut = pairs == Pairs.FIRST_HELD_OUT && objs.isEmpty();
            boolean mayHoldOut = pairs != Pairs.EXCLUDE_HELD_OUT;
            Colour c;
            ShapeKind k;
            do {
                c = Colour.values()[rng.nextInt(Colour.values().length)];
                k = ShapeKind.values()[rng.nextInt(ShapeKind.values().length)];
            } while (!bg.shows(c) || (mustHoldOut ? !isHeldOut(c, k) : (!mayHoldOut && isHeldOut(c, k))));
            Size size = n == 3 ? Size.SMALL : rng.nextBoolean() ? Size.SMALL : Size.LARGE;
            double r = size == Size.SMALL ? 7 + 3 * rng.nextDouble() : 13 + 4 * rng.nextDouble();
            double cx, cy;
            if (n == 1) {
                int cell = rng.nextInt(9);
                cx = clamp(SIZE * (2 * (cell % 3) + 1) / 6.0 + 6 * (rng.nextDouble() - 0.5), r);
                cy = clamp(SIZE * (2 * (cell / 3) + 1) / 6.0 + 6 * (rng.nextDouble() - 0.5), r);
            } else {
                cx = r + 1 + rng.nextDouble() * (SIZE - 2 * r - 2);
                cy = r + 1 + rng.nextDouble() * (SIZE - 2 * r - 2);
            }
            Obj o = new Obj(k, c, size, cx, cy, r);
            if (fits(o, objs) && (rel == null || objs.isEmpty() || satisfies(objs.get(0), o, rel))) {
                objs.add(o);
            }
        }
        return new Scene(bg, List.copyOf(objs), rel);
    }

    private static double clamp(double v, double r) {
        return Math.max(r + 1, Math.min(SIZE - r - 1, v));
    }

    private static boolean fits(Obj o, List<Obj> others) {
        for (Obj p : others) {
            if (Math.hypot(o.cx() - p.cx(), o.cy() - p.cy()) < o.radius() + p.radius() + 3) return false;
        }
        return true;
    }

    /** Whether first is clearly {@code rel} second: separated along the axis, and that axis dominates. */
    static boolean satisfies(Obj first, Obj second, Relation rel) {
        double dx = second.cx() - first.cx();
        double dy = second.cy() - first.cy();
        return switch (rel) {
            case LEFT_OF -> dx > 8 && Math.abs(dy) < 0.6 * dx;
            case RIGHT_OF -> -dx > 8 && Math.abs(dy) < -0.6 * dx;
            case ABOVE -> dy > 8 && Math.abs(dx) < 0.6 * dy;
            case BELOW -> -dy > 8 && Math.abs(dx) < -0.6 * dy;
        };
    }

    /** Draws the scene with anti-aliasing; object colours get a small per-channel jitter from {@code rng}. */
    public static BufferedImage render(Scene s, Random rng) {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(s.background().r, s.background().g, s.background().b));
        g.fillRect(0, 0, SIZE, SIZE);
        for (Obj o : s.objects()) {
            Colour c = o.colour();
            g.setColor(new Color(jitter(c.r, rng), jitter(c.g, rng), jitter(c.b, rng)));
            g.fill(outline(o.shape(), o.cx(), o.cy(), o.radius()));
        }
        g.dispose();
        return img;
    }

    private static int jitter(int v, Random rng) {
        return Math.max(0, Math.min(255, v + rng.nextInt(25) - 12));
    }

    /** The outline of shape {@code k} centred at (cx, cy) with half-extent r, in pixels of the 64x64 image (y down). */
    public static java.awt.Shape outline(ShapeKind k, double cx, double cy, double r) {
        switch (k) {
            case CIRCLE:
                return new Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r);
            case SQUARE:
                return new Rectangle2D.Double(cx - 0.85 * r, cy - 0.85 * r, 1.7 * r, 1.7 * r);
            case TRIANGLE:
                return polygon(new double[] {cx, cx + r, cx - r}, new double[] {cy - r, cy + 0.8 * r, cy + 0.8 * r});
            case DIAMOND:
                return polygon(new double[] {cx, cx + r, cx, cx - r}, new double[] {cy - r, cy, cy + r, cy});
            case CROSS: {
                double a = 0.33 * r;
                return polygon(new double[] {cx - a, cx + a, cx + a, cx + r, cx + r, cx + a, cx + a, cx - a, cx - a, cx - r, cx - r, cx - a},
                        new double[] {cy - r, cy - r, cy - a, cy - a, cy + a, cy + a, cy + r, cy + r, cy + a, cy + a, cy - a, cy - a});
            }
            case STAR: {
                double[] xs = new double[10], ys = new double[10];
                for (int i = 0; i < 10; i++) {
                    double rad = i % 2 == 0 ? r : 0.42 * r;
                    double ang = -Math.PI / 2 + i * Math.PI / 5;
                    xs[i] = cx + rad * Math.cos(ang);
                    ys[i] = cy + 0.1 * r + rad * Math.sin(ang);
                }
                return polygon(xs, ys);
            }
            case HEART: {
                Path2D.Double p = new Path2D.Double();
                p.moveTo(cx, cy + 0.9 * r);
                p.curveTo(cx - 1.3 * r, cy + 0.05 * r, cx - 1.0 * r, cy - 1.05 * r, cx, cy - 0.45 * r);
                p.curveTo(cx + 1.0 * r, cy - 1.05 * r, cx + 1.3 * r, cy + 0.05 * r, cx, cy + 0.9 * r);
                p.closePath();
                return p;
            }
            default:
                throw new IllegalArgumentException("unknown shape " + k);
        }
    }

    private static java.awt.Shape polygon(double[] xs, double[] ys) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) p.lineTo(xs[i], ys[i]);
        p.closePath();
        return p;
    }

    private static final String[] CELL = {
        "in the top left corner", "at the top", "in the top right corner",
        "on the left", "in the center", "on the right",
        "in the bottom left corner", "at the bottom", "in the bottom right corner"};

    private static String[] relationWords(Relation r) {
        return switch (r) {
            case LEFT_OF -> new String[] {"to the left of", "left of", "on the left of"};
            case RIGHT_OF -> new String[] {"to the right of", "right of", "on the right of"};
            case ABOVE -> new String[] {"above", "over"};
            case BELOW -> new String[] {"below", "under", "beneath"};
        };
    }

    /** "a small red circle" / "an orange star" (the size word appears when {@code withSize}). */
    public static String phrase(Obj o, boolean withSize) {
        String body = (withSize ? o.size().word() + " " : "") + o.colour().word() + " " + o.shape().word();
        return ("aeiou".indexOf(body.charAt(0)) >= 0 ? "an " : "a ") + body;
    }

    /** A caption for {@code s}, one paraphrase chosen by {@code rng}; every statement in it is true of the scene. */
    public static String caption(Scene s, Random rng) {
        List<Obj> o = s.objects();
        String bg = " on a " + s.background().word() + " background";
        boolean withBg = rng.nextInt(4) == 0;
        switch (o.size()) {
            case 1: {
                String p = phrase(o.get(0), rng.nextBoolean());
                String pos = CELL[o.get(0).cell()];
                return switch (rng.nextInt(5)) {
                    case 0 -> p;
                    case 1 -> p + " " + pos;
                    case 2 -> "a picture of " + p + " " + pos;
                    case 3 -> "an image of " + p;
                    default -> p + " " + pos;
                } + (withBg ? bg : "");
            }
            case 2: {
                String a = phrase(o.get(0), rng.nextBoolean());
                String b = phrase(o.get(1), rng.nextBoolean());
                int form = rng.nextInt(5);
                String text;
                if (form == 0) {
                    text = a + " and " + b;
                } else if (form <= 2) {
                    String[] w = relationWords(s.relation());
                    text = a + " " + w[rng.nextInt(w.length)] + " " + b;
                } else {
                    String[] w = relationWords(s.relation().inverse());
                    text = b + " " + w[rng.nextInt(w.length)] + " " + a;
                }
                return text + (withBg ? bg : "");
            }
            default: {
                String a = phrase(o.get(0), false), b = phrase(o.get(1), false), c = phrase(o.get(2), false);
                String list = a + ", " + b + " and " + c;
                return (rng.nextBoolean() ? list : "three shapes: " + list) + (withBg ? bg : "");
            }
        }
    }

    /**
     * {@code caption} of a two-object scene with the objects' colour words exchanged ("a red star left of a blue
     * square" → "a blue star left of a red square"; articles follow the new colour), or empty when the scene does
     * not have two objects of different colours and shapes or the caption does not name both as "colour shape".
     * A caption that binds the scene's colours to the wrong shapes, for training and judging colour binding.
     */
    public static Optional<String> swapColours(String caption, Scene s) {
        return rebind(caption, s, Rebinding.SWAP, true);
    }

    /** A colour+shape pair as a caption names it. */
    public record Pair(Colour colour, ShapeKind shape) {}

    /**
     * Ways to name a two-object scene wrongly, each keeping the scene's colour and shape words: exchange the colours
     * ({@link #SWAP}), give both objects one object's colour ({@link #COLOUR_LEAK}) or one object's shape
     * ({@link #SHAPE_LEAK}); the failures of two-object images.
     */
    public enum Rebinding {
        SWAP, COLOUR_LEAK, SHAPE_LEAK;

        /** The kind named {@code name} ("swap", "colour_leak", "shape_leak"; any case), or empty for any other name. */
        public static Optional<Rebinding> of(String name) {
            return Arrays.stream(values()).filter(k -> k.name().equalsIgnoreCase(name)).findFirst();
        }
    }

    /**
     * The pairs {@code kind} names for two-object scene {@code s}'s first and second object; the leaks copy the first
     * object's colour or shape onto the second when {@code towardsFirst}, the second's onto the first otherwise.
     */
    public static List<Pair> rebound(Scene s, Rebinding kind, boolean towardsFirst) {
        Obj a = s.objects().get(0), b = s.objects().get(1);
        return switch (kind) {
            case SWAP -> List.of(new Pair(b.colour(), a.shape()), new Pair(a.colour(), b.shape()));
            case COLOUR_LEAK -> towardsFirst ? List.of(new Pair(a.colour(), a.shape()), new Pair(a.colour(), b.shape()))
                    : List.of(new Pair(b.colour(), a.shape()), new Pair(b.colour(), b.shape()));
            case SHAPE_LEAK -> towardsFirst ? List.of(new Pair(a.colour(), a.shape()), new Pair(b.colour(), a.shape()))
                    : List.of(new Pair(a.colour(), b.shape()), new Pair(b.colour(), b.shape()));
        };
    }

    /**
     * {@code caption} of a two-object scene with its "colour shape" words rewritten to the pairs of
     * {@link #rebound}(s, kind, towardsFirst), articles following the new colour ("a red star left of a blue square"
     * → SHAPE_LEAK towards the first → "a red star left of a blue star"); empty when the scene does not have two
     * objects of different colours and shapes or the caption does not name both as "colour shape".
     */
    public static Optional<String> rebind(String caption, Scene s, Rebinding kind, boolean towardsFirst) {
        if (s == null || s.objects().size() != 2) return Optional.empty();
        Obj a = s.objects().get(0), b = s.objects().get(1);
        if (a.colour() == b.colour() || a.shape() == b.shape()) return Optional.empty();
        String[] w = caption.split(" ", -1);
        int[] at = {colourWordOf(w, a), colourWordOf(w, b)};
        if (at[0] < 0 || at[1] < 0) return Optional.empty();
        List<Pair> pairs = rebound(s, kind, towardsFirst);
        for (int j = 0; j < 2; j++) {
            int i = at[j];
            w[i] = pairs.get(j).colour().word();
            w[i + 1] = pairs.get(j).shape().word();
            if (i > 0 && (w[i - 1].equals("a") || w[i - 1].equals("an"))) w[i - 1] = "aeiou".indexOf(w[i].charAt(0)) >= 0 ? "an" : "a";
        }
        return Optional.of(String.join(" ", w));
    }

    /** Index of {@code o}'s colour word in "colour shape", when that pair occurs exactly once in {@code words}; else −1. */
    private static int colourWordOf(String[] words, Obj o) {
        int at = -1;
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals(o.colour().word()) && words[i + 1].equals(o.shape().word())) {
                if (at >= 0) return -1;
                at = i;
            }
        }
        return at;
    }

    /** The canonical evaluation prompt of a scene (no paraphrase): "a red star" / "a red star to the left of a blue square". */
    public static String prompt(Scene s) {
        List<Obj> o = s.objects();
        return switch (o.size()) {
            case 1 -> phrase(o.get(0), false);
            case 2 -> phrase(o.get(0), false) + " " + relationWords(s.relation())[0] + " " + phrase(o.get(1), false);
            default -> phrase(o.get(0), false) + ", " + phrase(o.get(1), false) + " and " + phrase(o.get(2), false);
        };
    }

    public static long mix(long a, long b) {
        long z = a ^ (b * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
