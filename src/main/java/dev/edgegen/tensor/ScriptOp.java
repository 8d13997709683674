package dev.edgegen.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One libtorch op DJL does not expose, as a TorchScript module whose {@code forward(tensors…)} returns one
 * expression; {@link TorchScriptArchive} writes the module and libtorch compiles it once per process. Used for
 * fused attention, native GroupNorm and the bfloat16 casts of {@link Autocast}.
 */
final class ScriptOp {
    private final String name;
    private final PtSymbolBlock module;

    private ScriptOp(String name, PtSymbolBlock module) {
        this.name = name;
        this.module = module;
    }

    /** {@code forward(self, <params as Tensor>) -> Tensor: return <expression>}; the class name must be unique. */
    static ScriptOp compile(String className, String expression, String... params) {
        StringBuilder args = new StringBuilder();
        for (String p : params) args.append(", ").append(p).append(": Tensor");
        return compileForward(className, args.substring(2), "Tensor", "return " + expression);
    }

    /**
     * {@code forward(self, <typedArgs>) -> <returnType>:} followed by {@code body} (one statement per line, TorchScript);
     * for ops on lists of tensors or with scalar arguments, called through {@link #run}.
     */
    static ScriptOp compileForward(String className, String typedArgs, String returnType, String... body) {
        StringBuilder source = new StringBuilder("class " + className + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self: __torch__." + className + ", " + typedArgs + ") -> " + returnType + ":\n");
        for (String line : body) source.append("    ").append(line).append("\n");
        byte[] archive = new TorchScriptArchive(className, source.toString()).toBytes();
        PtNDManager owner = (PtNDManager) NDManager.newBaseManager(Device.cpu(), "PyTorch");
        try {
            return new ScriptOp(className, JniUtils.loadModule(owner, new ByteArrayInputStream(archive), false, false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs the op; the result is attached to the first input's manager and records gradients when gradient mode is
     * on. {@code inferenceMode}: libtorch's inference mode (cheaper, but the result then refuses in-place ops).
     */
    NDArray call(NDList inputs, boolean inferenceMode) {
        for (NDArray a : inputs) pytorch(a);
        return IValueUtils.forward(module, inputs, !inferenceMode).singletonOrThrow();
    }

    /** {@code arrays} as a TorchScript {@code List[Tensor]} argument of {@link #run} / {@link #apply}. */
    IValue tensorList(java.util.List<NDArray> arrays) {
        PtNDArray[] a = new PtNDArray[arrays.size()];
        for (int i = 0; i < a.length; i++) a[i] = pytorch(arrays.get(i));
        return IValue.listFrom(a);
    }

    private PtNDArray pytorch(NDArray a) {
        if (!(a instanceof PtNDArray p)) {
            throw new IllegalArgumentException(name + " needs PyTorch-engine arrays (create them with a PyTorch NDManager); got "
                    + a.getClass().getName());
        }
        return p;
    }

    /** Runs the op on {@code inputs} (closed afterwards) and returns its tensor result in {@code manager}. */
    NDArray apply(NDManager manager, IValue... inputs) {
        try (IValue result = IValueUtils.forward(module, inputs)) {
            return result.toTensor((PtNDManager) manager);
        } finally {
            for (IValue v : inputs) v.close();
        }
    }

    /** Runs the op on {@code inputs} for its side effects (in-place updates), then closes the inputs and the result. */
    void run(IValue... inputs) {
        try (IValue result = IValueUtils.forward(module, inputs)) {
            // nothing to read: the op updated its arguments in place
        } finally {
            for (IValue v : inputs) v.close();
        }
    }
}
