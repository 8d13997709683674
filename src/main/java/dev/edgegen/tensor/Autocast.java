package dev.edgegen.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Mixed precision for the matmul-heavy layers, torch.autocast's CPU policy: inside a bfloat16 scope ({@link Precision#scope})
 * (per thread) {@code nn.Conv2d} and {@code nn.Linear} cast their input, weight and bias to bfloat16, run the
 * oneDNN/MKL bfloat16 kernel (accumulating in float32) and return float32. Everything else (norms, softmax,
 * attention, the loss), the weights, their gradients and the optimizer stay float32. On this project's 2-core
 * machine (AVX512-BF16) it makes a UNet training step 1.21x faster (docs/results/training-speed.md); bfloat16 keeps
 * 8 significant bits, so outputs differ from float32 by ~1e-2 relative.
 *
 * <p>The casts run inside small TorchScript modules ({@link ScriptOp}, one per layer signature): DJL
 * 0.35.1's PyTorch JNI aborts the JVM on any bfloat16 tensor that reaches Java, so none ever does.
 */
public final class Autocast {
    private Autocast() {}

    private static final ThreadLocal<Precision> CURRENT = ThreadLocal.withInitial(() -> Precision.FLOAT32);
    private static final Map<String, ScriptOp> OPS = new ConcurrentHashMap<>();

    /** The precision of convolutions and linear layers, by the name configs and the CLI use. */
    public enum Precision {
        FLOAT32("float32"), BFLOAT16("bfloat16");

        public final String label;

        Precision(String label) {
            this.label = label;
        }

        /** The precision named {@code label}, or empty for any other name. */
        public static Optional<Precision> of(String label) {
            return Arrays.stream(values()).filter(p -> p.label.equals(label)).findFirst();
        }

        /** Runs this thread's convolutions and linear layers at this precision until the returned scope is closed. */
        public Scope scope() {
            Precision before = CURRENT.get();
            CURRENT.set(this);
            return () -> CURRENT.set(before);
        }
    }

    /** A scope; closing it restores the previous precision of this thread. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** True inside a bfloat16 scope of this thread. */
    public static boolean active() {
        return CURRENT.get() == Precision.BFLOAT16;
    }

    /** conv2d in bfloat16: x (B, in, H, W), weight (out, in/groups, k, k), bias (out) or null → float32 (B, out, H', W'). */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, long stride, long padding, long dilation, int groups) {
        String key = "Conv2d_s" + stride + "_p" + padding + "_d" + dilation + "_g" + groups + (bias == null ? "" : "_b");
        return run(key, () -> String.format(Locale.ROOT, "torch.conv2d(x.to(15), w.to(15), %s, [%d, %d], [%d, %d], [%d, %d], %d).to(6)",
                bias == null ? "None" : "b.to(15)", stride, stride, padding, padding, dilation, dilation, groups),
                bias == null ? new NDList(x, weight) : new NDList(x, weight, bias));
    }

    /** linear in bfloat16: x (..., in), weight (out, in), bias (out) or null → float32 (..., out). */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return run(bias == null ? "Linear" : "Linear_b",
                () -> "torch.linear(x.to(15), w.to(15), " + (bias == null ? "None" : "b.to(15)") + ").to(6)",
                bias == null ? new NDList(x, weight) : new NDList(x, weight, bias));
    }

    /** {@code expression}: the op's TorchScript, built only the first time {@code key} is seen (torch dtype codes: 15 = bfloat16, 6 = float32). */
    private static NDArray run(String key, Supplier<String> expression, NDList inputs) {
        ScriptOp op = OPS.computeIfAbsent(key, k -> inputs.size() == 3
                ? ScriptOp.compile(k, expression.get(), "x", "w", "b") : ScriptOp.compile(k, expression.get(), "x", "w"));
        // not in inference mode: the models apply in-place ops to the result outside training
        return op.call(inputs, false);
    }
}
