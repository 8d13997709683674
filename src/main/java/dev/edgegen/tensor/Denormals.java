package dev.edgegen.tensor;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.FunctionDescriptor;
import jdk.incubator.foreign.MemoryAccess;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;

/**
 * Flush-to-zero for libtorch's kernels on one thread, as {@code torch.set_flush_denormal(True)} does (DJL has no such
 * call). Float results below 1.18e-38 become 0 and such inputs read as 0, instead of taking the CPU's slow microcode
 * path: libtorch's sigmoid of +90 (SiLU of a large activation) is 4.3x slower without it (docs/results/denormal-ops.md);
 * training losses are bit-identical either way (docs/results/training-denormals.md).
 *
 * <p>It sets the FTZ and DAZ bits of the x86 MXCSR register through glibc's {@code fegetenv}/{@code fesetenv}, called
 * with JDK 17's incubating foreign linker (the launcher and the tests pass {@code --add-modules jdk.incubator.foreign
 * --enable-native-access=ALL-UNNAMED}). MXCSR belongs to the thread, so call this on each thread that runs ops. Java
 * float arithmetic on that thread flushes too; the threads that call it only drive libtorch. Without the module, on
 * another CPU, or with {@code -Dedgegen.denormals=keep} it changes nothing and {@link #flushToZero} returns false.
 */
public final class Denormals {
    private static final int FTZ_DAZ = 0x8040; // MXCSR bit 15 flush-to-zero, bit 6 denormals-are-zero
    private static final long MXCSR_OFFSET = 28; // glibc x86_64 fenv_t: 28 bytes of x87 state, then unsigned int __mxcsr
    private static final long FENV_BYTES = 32;
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private Denormals() {}

    /** Sets flush-to-zero on the calling thread; true if it is now on. */
    public static boolean flushToZero() {
        if ("keep".equals(System.getProperty("edgegen.denormals"))) return false;
        if (!"amd64".equals(System.getProperty("os.arch")) || !"Linux".equals(System.getProperty("os.name"))) return false;
        try {
            return Fenv.setMxcsrBits(FTZ_DAZ);
        } catch (LinkageError | RuntimeException e) { // module not added, native access not enabled, symbol missing
            if (WARNED.compareAndSet(false, true)) {
                System.err.println("edgegen: denormal floats stay on (slower exp/sigmoid; the java command needs "
                        + "--add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED, as ./edgegen passes): " + e);
            }
            return false;
        }
    }

    /** Loaded only when used, so a JVM without jdk.incubator.foreign fails here and not in the caller. */
    private static final class Fenv {
        private static final MethodHandle GET;
        private static final MethodHandle SET;

        static {
            CLinker linker = CLinker.getInstance();
            MethodType type = MethodType.methodType(int.class, MemoryAddress.class);
            FunctionDescriptor descriptor = FunctionDescriptor.of(CLinker.C_INT, CLinker.C_POINTER);
            GET = linker.downcallHandle(CLinker.systemLookup().lookup("fegetenv").orElseThrow(), type, descriptor);
            SET = linker.downcallHandle(CLinker.systemLookup().lookup("fesetenv").orElseThrow(), type, descriptor);
        }

        static boolean setMxcsrBits(int bits) {
            try (ResourceScope scope = ResourceScope.newConfinedScope()) {
                MemorySegment env = MemorySegment.allocateNative(FENV_BYTES, scope);
                if ((int) GET.invokeExact(env.address()) != 0) return false;
                MemoryAccess.setIntAtOffset(env, MXCSR_OFFSET, MemoryAccess.getIntAtOffset(env, MXCSR_OFFSET) | bits);
                if ((int) SET.invokeExact(env.address()) != 0) return false;
                if ((int) GET.invokeExact(env.address()) != 0) return false;
                return (MemoryAccess.getIntAtOffset(env, MXCSR_OFFSET) & bits) == bits;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }
}
