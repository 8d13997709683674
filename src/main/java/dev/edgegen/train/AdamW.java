package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.edgegen.tensor.Foreach;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter 2019), as torch.optim.AdamW:
 * p ← p·(1 − lr·wd); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
 * p ← p − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
 * State (m, v per parameter, step count t) lives in the optimizer's own manager and is saved in
 * checkpoints. Weight decay applies only to tensors with 2 or more dimensions (not biases or norms).
 */
public final class AdamW implements AutoCloseable {
    /** Hyper-parameters, as torch.optim.AdamW's. */
    public record Hyper(double beta1, double beta2, double eps, double weightDecay) {
        public Hyper {
            if (beta1 < 0 || beta1 >= 1) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
            if (beta2 < 0 || beta2 >= 1) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
            if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0, got " + eps);
            if (weightDecay < 0) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
    }

    private final Hyper hyper;
    private final NDManager manager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private long t;

    public AdamW(Hyper hyper, NDManager parent) {
        this.hyper = hyper;
        this.manager = parent.newSubManager();
    }

    public long stepCount() { return t; }

    /**
     * One update of every parameter in {@code params} from {@code grads} (same keys). Parameters
     * are updated in place; call with gradient recording off (outside a GradientCollector).
     */
    public void step(Map<String, NDArray> params, Map<String, NDArray> grads, double lr) {
        step(params, grads, name -> lr);
    }

    /**
     * As {@link #step(Map, Map, double)} with a learning rate per parameter name (it scales the weight decay too, as
     * torch's parameter groups do). Parameters sharing a learning rate and weight decay are updated in one fused call.
     */
    public void step(Map<String, NDArray> params, Map<String, NDArray> grads, ToDoubleFunction<String> lrOf) {
        t++;
        Map<List<Double>, Group> groups = new LinkedHashMap<>();   // (lr, weight decay) → its tensors
        for (var e : params.entrySet()) {
            String name = e.getKey();
            NDArray p = e.getValue();
            NDArray g = grads.get(name);
            if (g == null) throw new IllegalArgumentException("no gradient for parameter " + name);
            double wd = p.getShape().dimension() >= 2 ? hyper.weightDecay : 0;
            Group group = groups.computeIfAbsent(List.of(lrOf.applyAsDouble(name), wd), k -> new Group());
            group.params.add(p);
            group.grads.add(g);
            group.m.add(m.computeIfAbsent(name, k -> manager.zeros(p.getShape(), DataType.FLOAT32)));
            group.v.add(v.computeIfAbsent(name, k -> manager.zeros(p.getShape(), DataType.FLOAT32)));
        }
        try (NDArray step = manager.create((float) t)) {
            groups.forEach((key, g) -> Foreach.adamW(g.params, g.grads, g.m, g.v, step, key.get(0),
                    hyper.beta1, hyper.beta2, key.get(1), hyper.eps));
        }
    }

    private static final class Group {
        final List<NDArray> params = new ArrayList<>(), grads = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
    }

    /** m and v tensors under {@code m.NAME} / {@code v.NAME} (owned by the optimizer). */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        m.forEach((k, a) -> out.put("m." + k, a));
        v.forEach((k, a) -> out.put("v." + k, a));
        return out;
    }

    /** Restores m, v and t from {@link #state()} output; the arrays are copied into the optimizer. */
    public void load(Map<String, NDArray> state, long stepCount) {
        close();
        for (var e : state.entrySet()) {
            String k = e.getKey();
            NDArray copy = e.getValue().duplicate();
            copy.attach(manager);
            if (k.startsWith("m.")) m.put(k.substring(2), copy);
            else if (k.startsWith("v.")) v.put(k.substring(2), copy);
            else throw new IllegalArgumentException("unknown optimizer state tensor " + k);
        }
        t = stepCount;
    }

    /** Frees the state (the optimizer stays usable and restarts from zero moments). */
    @Override
    public void close() {
        m.values().forEach(NDArray::close);
        v.values().forEach(NDArray::close);
        m.clear();
        v.clear();
        t = 0;
    }
}
