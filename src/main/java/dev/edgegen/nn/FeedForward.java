package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import dev.edgegen.tensor.Ops;

/**
 * diffusers' FeedForward with GEGLU: net.0.proj Linear(D, 2·mult·D) split into (hidden, gate),
 * hidden · gelu(gate), then net.2 Linear(mult·D, D). net.1 is dropout (no parameters).
 */
public final class FeedForward extends Module {
    public final Linear proj;
    public final Linear out;
    public final int dim;
    public final int inner;

    public FeedForward(int dim, int mult) {
        this.dim = dim;
        this.inner = dim * mult;
        Net net = register("net", new Net());
        Geglu geglu = net.put("0", new Geglu());
        proj = geglu.proj(new Linear(dim, 2 * inner, true));
        out = net.put("2", new Linear(inner, dim, true));
    }

    /** x: (B, N, D) → (B, N, D). */
    public NDArray forward(NDArray x) {
        return Scope.run(x, () -> {
            NDArray p = proj.forward(x);                                 // (B, N, 2·inner)
            long[] idx = {inner};
            var parts = p.split(idx, 2);
            NDArray hidden = parts.get(0);                               // (B, N, inner)
            NDArray gate = Ops.gelu(parts.get(1));
            return out.forward(Ops.mulInPlace(gate, hidden));
        });
    }

    public long flops(int batch, long n) {
        return 2L * batch * n * ((long) dim * 2 * inner + (long) inner * dim);
    }

    private static final class Net extends Module {
        <M extends Module> M put(String name, M m) { return register(name, m); }
    }

    private static final class Geglu extends Module {
        Linear proj(Linear l) { return register("proj", l); }
    }
}
