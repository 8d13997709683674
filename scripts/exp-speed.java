// Probe: how long libtorch's exp takes on a (32, 64, 16, 16) float32 tensor filled with one value, one thread.
// Arguments below about -87 give results under float32's smallest normal number (denormal, or 0 after them).
// Run after a build: java -Dai.djl.pytorch.num_threads=1 -cp "target/run/edgegen.jar:target/lib/*" scripts/exp-speed.java
// (docs/results/training-profile-slow-phase.md)
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
public class ExpSpeed {
    public static void main(String[] a) {
        try (NDManager m = NDManager.newBaseManager()) {
            for (float v : new float[] {-5f, -80f, -86f, -88f, -95f, -103f, -110f, -200f}) {
                NDArray x = m.full(new Shape(32, 64, 16, 16), v);
                for (int i = 0; i < 3; i++) x.exp().close();
                long t = System.nanoTime();
                for (int i = 0; i < 20; i++) x.exp().close();
                System.out.printf("exp(%6.1f): %.2f ms per 524288 values%n", v, (System.nanoTime() - t) / 20e6);
            }
        }
    }
}
