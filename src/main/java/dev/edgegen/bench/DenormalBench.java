package dev.edgegen.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.tensor.Denormals;
import dev.edgegen.tensor.PageWarmer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * How much denormal floats slow libtorch's element-wise ops, with and without {@link Denormals#flushToZero}: each op on
 * a (32, 64, 16, 16) float32 tensor (one UNet activation at batch 32) filled with one value, one intra-op thread, on a
 * thread of its own.
 *
 * <p>Usage (after a build; tcmalloc as the launcher preloads it, since with glibc's malloc each op's fresh output
 * costs page faults that swamp the difference): {@code LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
 * java --add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED -cp "target/edgegen.jar:target/lib/*"
 * dev.edgegen.bench.DenormalBench [OUT_DIR]}; writes OUT_DIR/denormal-ops.json and .md (default docs/results).
 */
public final class DenormalBench {
    private static final Shape SHAPE = new Shape(32, 64, 16, 16);

    private record Op(String name, float value, String why, Function<NDArray, NDArray> f) {}

    private DenormalBench() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "docs/results");
        Engine.getEngine("PyTorch"); // loads libtorch before the timing threads set their thread count
        boolean warmer = PageWarmer.start(); // as the CLI does: otherwise exp may be slow for another reason
        Thread.sleep(1000);
        String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
        Op[] ops = {
            new Op("sigmoid", 1f, "normal", Activation::sigmoid),
            new Op("sigmoid", 90f, "exp(-90) = 8e-40 inside (SiLU of a large activation)", Activation::sigmoid),
            new Op("mul", 1e-20f, "1e-40 results", x -> x.mul(x)),
            new Op("mul", 1f, "normal", x -> x.mul(x)),
            new Op("exp", -1f, "normal (libtorch's exp goes to MKL)", NDArray::exp),
            new Op("exp", -90f, "8e-40 results", NDArray::exp),
        };
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("command", "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 "
                + "java --add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED "
                + "-cp \"target/edgegen.jar:target/lib/*\" dev.edgegen.bench.DenormalBench " + out);
        root.put("shape", SHAPE.toString());
        root.put("page_warmer", warmer);
        root.put("tcmalloc", preload.contains("tcmalloc"));
        ArrayNode rows = root.putArray("ops");
        StringBuilder md = new StringBuilder("# Denormal floats and libtorch's element-wise ops\n\nCommand: `")
                .append(root.get("command").asText()).append("`\n\n")
                .append("Median ms per op on a ").append(SHAPE).append(" float32 tensor of one value, one thread; "
                        + "`flush` = FTZ+DAZ set on the thread (`tensor.Denormals`); page warmer ").append(warmer ? "on" : "off")
                .append(", tcmalloc ").append(preload.contains("tcmalloc") ? "on" : "off").append(".\n\n")
                .append("| op | value | | keep (ms) | flush (ms) | keep / flush |\n|---|---|---|---|---|---|\n");
        for (Op op : ops) {
            double keep = time(op, false);
            double flush = time(op, true);
            rows.addObject().put("op", op.name).put("value", op.value).put("note", op.why)
                    .put("keep_ms", keep).put("flush_ms", flush);
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %.2f | %.1fx |%n",
                    op.name, op.value, op.why, keep, flush, keep / flush));
        }
        Files.createDirectories(out);
        json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("denormal-ops.json").toFile(), root);
        Files.writeString(out.resolve("denormal-ops.md"), md);
        System.out.print(md);
    }

    /** Median ms of 20 runs of the op after 3 warm-ups, on a new thread with or without flush-to-zero. */
    private static double time(Op op, boolean flush) throws Exception {
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            return thread.submit(() -> {
                JniUtils.setNumThreads(1);
                if (flush && !Denormals.flushToZero()) throw new IllegalStateException("flush-to-zero is not available");
                try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                    NDArray x = m.full(SHAPE, op.value);
                    return Stats.medianMs(3, 20, () -> op.f.apply(x).close());
                }
            }).get();
        } finally {
            thread.shutdownNow();
        }
    }
}
