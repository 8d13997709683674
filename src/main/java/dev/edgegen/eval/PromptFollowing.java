package dev.edgegen.eval;

import dev.edgegen.data.Scene;
import dev.edgegen.eval.SceneClassifier.Detection;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Judges whether an image shows what a synthetic prompt asked for, from the classifier's
 * detections: per-object colour and shape, the 3x3 position (one object), the count, and the
 * relation (two objects).
 */
public final class PromptFollowing {
    private PromptFollowing() {}

    /**
     * One image against its prompt's scene. One object: colour, shape and 3x3 position of the most
     * confident detection. Several: every requested colour, shape and colour+shape pair is found;
     * position is the relation for two objects and the pairs for three. {@code relation} is null
     * unless two objects were asked for. The pair breakdown is null for one object: {@code firstPair}
     * whether the first named object's colour+shape pair is found (in held-out sets the held-out pair),
     * {@code otherPairs} whether the others' are, and {@code swapped} (two objects of different colours
     * and shapes) whether the crossed pairs are found instead of the asked ones (colours and shapes
     * bound to the wrong objects).
     */
    public record Judgement(boolean colour, boolean shape, boolean colourAndShape, boolean position, boolean count,
                            Boolean relation, Boolean firstPair, Boolean otherPairs, Boolean swapped) {
        Judgement(boolean colour, boolean shape, boolean colourAndShape, boolean position, boolean count) {
            this(colour, shape, colourAndShape, position, count, null, null, null, null);
        }
    }

    public static Judgement judge(Scene prompt, List<Detection> dets) {
        List<Scene.Obj> want = prompt.objects();
        boolean count = dets.size() == want.size();
        if (want.size() == 1) {
            Scene.Obj o = want.get(0);
            if (dets.isEmpty()) return new Judgement(false, false, false, false, false);
            Detection d = dets.get(0);
            return new Judgement(d.colour() == o.colour(), d.shape() == o.shape(),
                    d.colour() == o.colour() && d.shape() == o.shape(), d.cell() == o.cell(), count);
        }
        boolean colours = true, shapes = true;
        List<Detection> matched = new ArrayList<>();
        List<Detection> free = new ArrayList<>(dets);
        for (Scene.Obj o : want) {
            colours &= dets.stream().anyMatch(d -> d.colour() == o.colour());
            shapes &= dets.stream().anyMatch(d -> d.shape() == o.shape());
            Detection m = free.stream().filter(d -> d.colour() == o.colour() && d.shape() == o.shape()).findFirst().orElse(null);
            matched.add(m);
            if (m != null) free.remove(m);
        }
        boolean both = matched.stream().allMatch(m -> m != null);
        Boolean relation = null, swapped = null;
        if (want.size() == 2) {
            relation = both && holds(matched.get(0), matched.get(1), prompt.relation());
            Scene.Obj a = want.get(0), b = want.get(1);
            swapped = a.colour() != b.colour() && a.shape() != b.shape()
                    && has(dets, a.colour(), b.shape()) && has(dets, b.colour(), a.shape()) && !both;
        }
        boolean others = matched.subList(1, matched.size()).stream().allMatch(m -> m != null);
        return new Judgement(colours, shapes, both, relation != null ? relation : both, count, relation,
                matched.get(0) != null, others, swapped);
    }

    private static boolean has(List<Detection> dets, Scene.Colour c, Scene.ShapeKind k) {
        return dets.stream().anyMatch(d -> d.colour() == c && d.shape() == k);
    }

    /**
     * Scores generated images (B, 3, 64, 64) in [-1, 1] against the scenes their prompts asked for
     * (same order), with the classifier at objectness threshold 0.5.
     */
    public static List<Judgement> score(SceneClassifier classifier, ai.djl.ndarray.NDArray images, List<Scene> prompts) {
        if (images.getShape().get(0) != prompts.size()) {
            throw new IllegalArgumentException(images.getShape().get(0) + " images for " + prompts.size() + " prompts");
        }
        try (ai.djl.ndarray.NDManager scope = images.getManager().newSubManager()) {
            ai.djl.ndarray.NDArray x = images.duplicate();
            x.attach(scope);
            List<List<Detection>> dets = SceneClassifier.decode(classifier.forward(x), 0.5);
            List<Judgement> out = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) out.add(judge(prompts.get(i), dets.get(i)));
            return out;
        }
    }

    /** Whether the first detection is {@code rel} the second (the relation's axis dominates). */
    static boolean holds(Detection a, Detection b, Scene.Relation rel) {
        double dx = b.cx() - a.cx(), dy = b.cy() - a.cy();
        return switch (rel) {
            case LEFT_OF -> dx > 0 && Math.abs(dx) >= Math.abs(dy);
            case RIGHT_OF -> dx < 0 && Math.abs(dx) >= Math.abs(dy);
            case ABOVE -> dy > 0 && Math.abs(dy) >= Math.abs(dx);
            case BELOW -> dy < 0 && Math.abs(dy) >= Math.abs(dx);
        };
    }

    /**
     * Mean rates over judgements. Relation and swapped are over two-object prompts only, first and other
     * pairs over prompts with several objects; NaN when there are none (every rate is NaN for no judgements).
     */
    public record Summary(int n, double colour, double shape, double colourAndShape, double position, double count, double relation,
                          double firstPair, double otherPairs, double swapped) {
        public static Summary of(List<Judgement> js) {
            return new Summary(js.size(), rate(js, Judgement::colour), rate(js, Judgement::shape),
                    rate(js, Judgement::colourAndShape), rate(js, Judgement::position), rate(js, Judgement::count),
                    rate(js, Judgement::relation), rate(js, Judgement::firstPair), rate(js, Judgement::otherPairs),
                    rate(js, Judgement::swapped));
        }

        /** The share of true among the judgements where {@code f} is defined (not null); NaN when it never is. */
        private static double rate(List<Judgement> js, Function<Judgement, Boolean> f) {
            int defined = 0, yes = 0;
            for (Judgement j : js) {
                Boolean v = f.apply(j);
                if (v == null) continue;
                defined++;
                yes += v ? 1 : 0;
            }
            return defined == 0 ? Double.NaN : yes / (double) defined;
        }
    }
}
