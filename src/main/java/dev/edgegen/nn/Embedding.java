package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;

/** Lookup table: row i of {@code weight} for id i. Key: {@code weight} (num, dim). */
public final class Embedding extends Module {
    public final Parameter weight; // (num, dim)
    public final int num;
    public final int dim;

    public Embedding(int num, int dim) {
        this.num = num;
        this.dim = dim;
        this.weight = param("weight", Parameter.Init.NORMAL, num, dim);
    }

    /** ids: integer (...) → (..., dim), attached to the ids' manager. */
    public NDArray forward(NDArray ids) {
        NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        return ai.djl.nn.core.Embedding.embedding(idx, weight.get(), SparseFormat.DENSE).singletonOrThrow();
    }
}
