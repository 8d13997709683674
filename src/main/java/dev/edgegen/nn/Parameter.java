package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * One named tensor of a {@link Module}: its expected shape, how a fresh one is initialised, and
 * its current value (null until {@link Module#initialize} or a checkpoint load sets it).
 */
public final class Parameter {
    /** How {@link Module#initialize} fills a fresh parameter. */
    public enum Init { NORMAL, ZEROS, ONES }

    private final Shape shape;
    private final Init init;
    private NDArray value;

    Parameter(Shape shape, Init init) {
        this.shape = shape;
        this.init = init;
    }

    public Shape shape() { return shape; }

    public Init init() { return init; }

    /** The current value; throws if the parameter was never initialised or loaded. */
    public NDArray get() {
        if (value == null) {
            throw new IllegalStateException("parameter of shape " + shape + " has no value: initialise or load the model first");
        }
        return value;
    }

    public boolean isSet() { return value != null; }

    /** Replaces the value (the old one is closed unless it is the same array). Shape must match. */
    public void set(NDArray v) {
        if (!v.getShape().equals(shape)) {
            throw new IllegalArgumentException("shape mismatch: expected " + shape + ", found " + v.getShape());
        }
        if (value != null && value != v) {
            value.close();
        }
        value = v;
    }
}
