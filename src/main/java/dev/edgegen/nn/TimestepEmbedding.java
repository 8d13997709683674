package dev.edgegen.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.edgegen.tensor.Ops;

/**
 * Timestep conditioning of the UNet: diffusers' sinusoidal Timesteps projection followed by
 * TimestepEmbedding (linear_1, SiLU, linear_2). Keys: linear_1, linear_2.
 */
public final class TimestepEmbedding extends Module {
    public final Linear linear1;
    public final Linear linear2;
    public final int projDim;
    private final boolean flipSinToCos;
    private final float freqShift;

    public TimestepEmbedding(int projDim, int embedDim, boolean flipSinToCos, float freqShift) {
        if (projDim % 2 != 0) {
            throw new IllegalArgumentException("timestep projection width must be even, got " + projDim);
        }
        this.projDim = projDim;
        this.flipSinToCos = flipSinToCos;
        this.freqShift = freqShift;
        linear1 = register("linear_1", new Linear(projDim, embedDim, true));
        linear2 = register("linear_2", new Linear(embedDim, embedDim, true));
    }

    /** timesteps: (B) → (B, embedDim), in the timesteps' manager. */
    public NDArray forward(NDArray timesteps) {
        return Scope.run(timesteps, () -> {
            NDArray p = sinusoidal(timesteps.getManager(), timesteps.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray(), projDim, flipSinToCos, freqShift);
            return linear2.forward(Ops.silu(linear1.forward(p)));
        });
    }

    /**
     * (B, dim): for frequency f_i = exp(-ln(10000)·i/(dim/2 − shift)), i &lt; dim/2, the row is
     * [sin(t f), cos(t f)], or [cos(t f), sin(t f)] with flipSinToCos.
     */
    public static NDArray sinusoidal(NDManager manager, float[] t, int dim, boolean flipSinToCos, float freqShift) {
        int half = dim / 2;
        float[] out = new float[t.length * dim];
        for (int b = 0; b < t.length; b++) {
            for (int i = 0; i < half; i++) {
                // float32 like torch: exponent and frequency in single precision
                float freq = (float) Math.exp((float) (-Math.log(10000.0) * i) / (half - freqShift));
                float arg = t[b] * freq;
                float s = (float) Math.sin(arg);
                float c = (float) Math.cos(arg);
                out[b * dim + i] = flipSinToCos ? c : s;
                out[b * dim + half + i] = flipSinToCos ? s : c;
            }
        }
        return manager.create(out, new Shape(t.length, dim));
    }

    public long flops(int batch) {
        return 2L * batch * ((long) linear1.in * linear1.out + (long) linear2.in * linear2.out);
    }
}
