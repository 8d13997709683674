package dev.edgegen.nelf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.edgegen.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam (Kingma & Ba) over a module's parameters, with bias correction; its moments are saved in
 * checkpoints so a resumed run continues exactly. Written here because the shared trainer
 * ({@code dev.edgegen.train}) had not landed; swap when it does.
 */
public final class Adam {
    private final Map<String, Parameter> params;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    private long t;

    public Adam(NDManager manager, Map<String, Parameter> params) {
        this.params = params;
        for (var e : params.entrySet()) {
            m.put(e.getKey(), manager.zeros(e.getValue().shape()));
            v.put(e.getKey(), manager.zeros(e.getValue().shape()));
            e.getValue().get().setRequiresGradient(true);
        }
    }

    public long steps() { return t; }

    /** One update with learning rate {@code lr} from the gradients of the last backward pass, which are then zeroed. */
    public void step(float lr) {
        step(k -> lr);
    }

    /** As {@link #step(float)} with a learning rate per parameter name. */
    public void step(java.util.function.ToDoubleFunction<String> lrOf) {
        t++;
        float c1 = 1 - (float) Math.pow(beta1, t), c2 = 1 - (float) Math.pow(beta2, t);
        try (NDScope scope = new NDScope()) {
            for (var e : params.entrySet()) {
                NDArray p = e.getValue().get();
                NDArray g = p.getGradient();
                NDArray mm = m.get(e.getKey()).muli(beta1).addi(g.mul(1 - beta1));
                NDArray vv = v.get(e.getKey()).muli(beta2).addi(g.square().muli(1 - beta2));
                float lr = (float) lrOf.applyAsDouble(e.getKey());
                p.subi(mm.div(c1).divi(vv.div(c2).sqrt().addi(eps)).muli(lr));
                g.muli(0);
            }
        }
    }

    /** Moments as named arrays ({@code m.KEY}, {@code v.KEY}) for a checkpoint. */
    public NDList state() {
        NDList out = new NDList();
        m.forEach((k, a) -> { a.setName("m." + k); out.add(a); });
        v.forEach((k, a) -> { a.setName("v." + k); out.add(a); });
        return out;
    }

    public void restore(Map<String, NDArray> state, long steps) {
        for (String k : params.keySet()) {
            NDArray mm = state.get("m." + k), vv = state.get("v." + k);
            if (mm == null || vv == null) throw new IllegalArgumentException("checkpoint lacks optimizer state for " + k);
            m.get(k).set(mm.toFloatArray());
            v.get(k).set(vv.toFloatArray());
        }
        t = steps;
    }
}
