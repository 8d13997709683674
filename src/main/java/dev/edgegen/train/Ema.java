package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.nn.Parameter;
import dev.edgegen.tensor.Foreach;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exponential moving average of weights: e ← d·e + (1−d)·p after each update, with the usual
 * warm-up d_t = min(decay, (1 + t) / (10 + t)) so early averages are not dominated by the init.
 */
public final class Ema implements AutoCloseable {
    private final double decay;
    private final NDManager manager;
    private final Map<String, NDArray> shadow = new LinkedHashMap<>();

    public Ema(double decay, NDManager parent) {
        if (decay < 0 || decay >= 1) throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        this.decay = decay;
        this.manager = parent.newSubManager();
    }

    /** Effective decay after {@code updates} previous updates. */
    public double decayAt(long updates) {
        return Math.min(decay, (1.0 + updates) / (10.0 + updates));
    }

    /** Folds the current parameter values in (one fused call for all of them); {@code updates} = number of updates before this one. */
    public void update(Map<String, Parameter> params, long updates) {
        double d = decayAt(updates);
        List<NDArray> averages = new ArrayList<>(), current = new ArrayList<>();
        for (var e : params.entrySet()) {
            NDArray p = e.getValue().get();
            NDArray s = shadow.get(e.getKey());
            if (s == null) {
                s = p.duplicate();
                s.attach(manager);
                shadow.put(e.getKey(), s);
                continue;
            }
            averages.add(s);
            current.add(p);
        }
        if (!averages.isEmpty()) Foreach.lerp(averages, current, 1 - d);   // e ← e + (1 − d)(p − e) = d·e + (1 − d)·p
    }

    /** The averaged weights by parameter name (owned by this object). */
    public Map<String, NDArray> weights() {
        return java.util.Collections.unmodifiableMap(shadow);
    }

    /** Replaces the averages with copies of {@code weights}. */
    public void load(Map<String, NDArray> weights) {
        close();
        weights.forEach((k, a) -> {
            NDArray c = a.duplicate();
            c.attach(manager);
            shadow.put(k, c);
        });
    }

    /** Copies the averaged weights into the parameters (for evaluation or export). */
    public void copyTo(Map<String, Parameter> params) {
        for (var e : params.entrySet()) {
            NDArray s = shadow.get(e.getKey());
            if (s == null) throw new IllegalStateException("no EMA weights for " + e.getKey() + "; run at least one update first");
            NDArray c = s.duplicate();
            c.attach(e.getValue().get().getManager());
            e.getValue().set(c);
        }
    }

    @Override
    public void close() {
        shadow.values().forEach(NDArray::close);
        shadow.clear();
    }
}
