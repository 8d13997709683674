package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * While open, on the thread that opened it, the given parameters read as detached copies (same storage, a leaf of
 * their own): a forward pass computes the same outputs, but its backward leaves the parameters' gradients alone and
 * reaches only the other parameters (and the inputs). Used where one loss term may train a part of a model only, in
 * a forward pass of its own. The copies are owned by {@code manager} (free them with the step's arrays, after the
 * backward pass). They still ask for a gradient, which is discarded with them: a convolution whose weight needs
 * none computes its input gradient in another oneDNN pass, and that one came out wrong on this machine's CPU (about
 * twice the true value through the UNet's 8-channel {@code conv_out}; {@code DetachedParametersTest}).
 */
public final class DetachedParameters implements AutoCloseable {
    private static final ThreadLocal<Map<Parameter, NDArray>> CURRENT = new ThreadLocal<>();

    private DetachedParameters(Map<Parameter, NDArray> views) {
        CURRENT.set(views);
    }

    /** Detaches {@code params} on this thread until {@link #close}; nesting is not supported. */
    public static DetachedParameters of(Collection<Parameter> params, NDManager manager) {
        if (CURRENT.get() != null) throw new IllegalStateException("detached parameters are already open on this thread");
        Map<Parameter, NDArray> views = new IdentityHashMap<>();
        for (Parameter p : params) {
            NDArray v = p.get().stopGradient();   // a new leaf on the same storage ...
            v.attach(manager);
            v.setRequiresGradient(true);          // ... that still asks for its gradient, thrown away with it
            views.put(p, v);
        }
        return new DetachedParameters(views);
    }

    /** The detached view of {@code p} while open on this thread, else null. */
    static NDArray viewOf(Parameter p) {
        Map<Parameter, NDArray> views = CURRENT.get();
        return views == null ? null : views.get(p);
    }

    @Override
    public void close() {
        CURRENT.remove();
    }
}
