package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node of a model tree. Children and parameters are registered under the names their
 * checkpoint keys use, so {@link #parameters()} yields exactly the state-dict keys
 * (e.g. {@code down_blocks.0.resnets.1.conv1.weight}) and loading is one pass of name matching.
 *
 * <p>Forward methods are ordinary methods with the signature each module needs. Native memory
 * rule: in every op put the activation first and weights after, so results are attached to the
 * activation's (per-step) manager and not to the weights' manager, where they would leak.
 */
public abstract class Module {
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Parameter> params = new LinkedHashMap<>();

    protected final <M extends Module> M register(String name, M child) {
        if (children.containsKey(name) || params.containsKey(name)) {
            throw new IllegalArgumentException("duplicate module name " + name);
        }
        children.put(name, child);
        return child;
    }

    protected final Parameter param(String name, Parameter.Init init, long... shape) {
        if (children.containsKey(name) || params.containsKey(name)) {
            throw new IllegalArgumentException("duplicate parameter name " + name);
        }
        Parameter p = new Parameter(new Shape(shape), init);
        params.put(name, p);
        return p;
    }

    /** Direct children in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** All parameters of the tree under their dotted checkpoint names, in registration order. */
    public final Map<String, Parameter> parameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        params.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collect(prefix + n + ".", out));
    }

    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters().values()) {
            n += p.shape().size();
        }
        return n;
    }

    /**
     * Fills every parameter: NORMAL ~ N(0, std), ZEROS, ONES. Deterministic for a given seed
     * and tree (parameters are drawn in registration order).
     */
    public final void initialize(NDManager manager, float std, long seed) {
        fill(manager, seed, shape -> std);
    }

    /**
     * Fills every parameter for training from scratch: NORMAL weights of rank ≥ 2 ~ N(0, 1/fan_in) with
     * fan_in = size / shape[0] (LeCun normal: the in-features of a Linear, in·k·k of a Conv2d, the width of an
     * Embedding), so every layer starts with unit-variance outputs whatever its width; ZEROS, ONES as named.
     */
    public final void initializeFanIn(NDManager manager, long seed) {
        fill(manager, seed, shape -> shape.dimension() < 2 ? 0.02f : (float) (1 / Math.sqrt((double) shape.size() / shape.get(0))));
    }

    private void fill(NDManager manager, long seed, java.util.function.Function<Shape, Float> normalStd) {
        java.util.SplittableRandom root = new java.util.SplittableRandom(seed);
        for (Parameter p : parameters().values()) {
            long s = root.nextLong();
            NDArray v = switch (p.init()) {
                case ZEROS -> manager.zeros(p.shape(), DataType.FLOAT32);
                case ONES -> manager.ones(p.shape(), DataType.FLOAT32);
                default -> gaussian(manager, p.shape(), normalStd.apply(p.shape()), s);
            };
            p.set(v);
        }
    }

    private static NDArray gaussian(NDManager manager, Shape shape, float std, long seed) {
        int n = Math.toIntExact(shape.size());
        float[] data = new float[n];
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < n; i++) {
            data[i] = (float) (r.nextGaussian() * std);
        }
        return manager.create(data, shape);
    }

    /** What a state-dict load found: names missing from the file, names the model lacks, shape mismatches. */
    public record LoadReport(List<String> missing, List<String> unexpected, List<String> mismatched) {
        public boolean ok() { return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty(); }

        /** A readable summary naming every problem (expected vs found shapes for mismatches). */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            if (!missing.isEmpty()) sb.append(missing.size()).append(" missing tensor(s): ").append(head(missing)).append('\n');
            if (!unexpected.isEmpty()) sb.append(unexpected.size()).append(" unexpected tensor(s): ").append(head(unexpected)).append('\n');
            if (!mismatched.isEmpty()) sb.append(mismatched.size()).append(" tensor(s) with the wrong shape: ").append(head(mismatched)).append('\n');
            return sb.toString().trim();
        }

        private static String head(List<String> l) {
            return l.size() <= 10 ? String.join(", ", l) : String.join(", ", l.subList(0, 10)) + ", ...";
        }
    }

    /**
     * Sets parameters from a name → tensor map (tensors are converted to float32; ownership of
     * the given arrays passes to the model). Nothing is set unless every shape matches; the report
     * lists what did not.
     */
    public final LoadReport load(Map<String, NDArray> tensors) {
        Map<String, Parameter> mine = parameters();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (var e : mine.entrySet()) {
            NDArray t = tensors.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (!t.getShape().equals(e.getValue().shape())) {
                mismatched.add(e.getKey() + " (expected " + e.getValue().shape() + ", found " + t.getShape() + ")");
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : tensors.keySet()) {
            if (!mine.containsKey(k)) unexpected.add(k);
        }
        LoadReport report = new LoadReport(missing, unexpected, mismatched);
        if (missing.isEmpty() && mismatched.isEmpty()) {
            for (var e : mine.entrySet()) {
                NDArray t = tensors.get(e.getKey());
                e.getValue().set(t.getDataType() == DataType.FLOAT32 ? t : t.toType(DataType.FLOAT32, false));
            }
        }
        return report;
    }
}
