package dev.edgegen.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.edgegen.tensor.Attention;
import dev.edgegen.tensor.Randn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * GFLOP/s of attention implementations at SD-1.5 UNet shapes, against a 4096³ matmul measured in the
 * same run (the machine's practical ceiling). Attention FLOPs = 4·B·N·M·H·D (q kᵀ and p v).
 *
 * <p>Usage: {@code AttentionBench [--runs R] [--iters K] [--threads T] [--out DIR] [--name FILE]
 * [--impl NAME ...] [B,N,M,C,heads ...]};
 * default shapes are the SD-1.5 self-attention at 64², 32², 16² latents and the 64² cross-attention
 * (projected to 320), batch 2. Each run is a fresh JVM; {@code --out} writes FILE.json and FILE.md.
 */
public final class AttentionBench {
    private static final List<String> DEFAULT_SHAPES =
            List.of("2,4096,4096,320,8", "2,1024,1024,640,8", "2,256,256,1280,8", "2,4096,77,320,8");

    private AttentionBench() {}

    /** The implementations compared; only {@code forward} ships, the others are the baselines it beat. */
    enum Impl {
        FUSED("Attention.forward: torch SDPA (fused CPU flash) via TorchScript"),
        CHUNKED_256("per-(batch,head) 256-query chunks, DJL ops"),
        CHUNKED_1024("per-(batch,head) 1024-query chunks, DJL ops"),
        PLAIN("plain batched (Attention.reference)");

        final String description;

        Impl(String description) {
            this.description = description;
        }

        NDArray run(NDArray q, NDArray k, NDArray v, int heads) {
            return switch (this) {
                case PLAIN -> Attention.reference(q, k, v, heads, false);
                case CHUNKED_256 -> chunked(q, k, v, heads, 256);
                case CHUNKED_1024 -> chunked(q, k, v, heads, 1024);
                case FUSED -> Attention.forward(q, k, v, heads, false);
            };
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        int iters = 5;
        int runs = 3;
        Path out = null;
        boolean child = false;
        int threads = 0;
        String name = "attention-bench";
        List<String> shapes = new ArrayList<>();
        List<Impl> impls = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--impl" -> impls.add(Impl.valueOf(args[++i]));
                case "--child" -> child = true;
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--name" -> name = args[++i];
                default -> shapes.add(checkShape(args[i]));
            }
        }
        if (shapes.isEmpty()) {
            shapes = DEFAULT_SHAPES;
        }
        if (impls.isEmpty()) {
            impls = List.of(Impl.values());
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (child) {
            if (threads > 0) {
                try (NDManager init = NDManager.newBaseManager("PyTorch")) {
                    ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
                }
            }
            System.out.println(json.writeValueAsString(measureRun(shapes, impls, iters)));
            return;
        }
        // each run in a fresh JVM: a run that touched gigabytes (the plain baseline) slows later
        // allocations in the same process for seconds, which would bias whatever is measured next
        List<Map<String, Object>> results = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AttentionBench.class.getName(),
                    "--child", "--iters", String.valueOf(iters), "--threads", String.valueOf(threads)));
            impls.forEach(i -> cmd.addAll(List.of("--impl", i.name())));
            cmd.addAll(shapes);
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("benchmark run " + r + " failed: " + output);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> run = json.readValue(output, Map.class);
            results.add(run);
            System.out.println(output);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("command", "java -cp target/classes:target/lib/* " + AttentionBench.class.getName() + " "
                + String.join(" ", args));
        report.put("date", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("threads", threads > 0 ? String.valueOf(threads) : "engine default (2 here)");
        report.put("flops", "attention 4*B*N*M*C (q k^T and p v), matmul 2*4096^3");
        report.put("statistic", "per run: " + iters + " timed attention calls, each followed by a timed 4096^3 "
                + "matmul (after one warm-up of each); ratio = median over the pairs of attention/matmul GFLOP/s");
        report.put("runs", results);
        report.put("summary", summarize(results, shapes, impls));
        String table = markdown(report, shapes, impls);
        System.out.println(table);
        if (out != null) {
            Files.createDirectories(out);
            json.writeValue(out.resolve(name + ".json").toFile(), report);
            Files.writeString(out.resolve(name + ".md"), table);
        }
    }

    private static String checkShape(String spec) {
        long[] s;
        try {
            s = Arrays.stream(spec.split(",")).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
            s = new long[0];
        }
        if (s.length != 5 || s[4] <= 0 || s[3] % s[4] != 0) {
            throw new IllegalArgumentException("shape must be B,N,M,C,heads with C divisible by heads, e.g. "
                    + "2,4096,4096,320,8; got " + spec);
        }
        return spec;
    }

    private static Map<String, Object> measureRun(List<String> shapes, List<Impl> impls, int iters)
            throws IOException {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("loadAverageStart", loadAverage());
        List<Map<String, Object>> rows = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Random rng = new Random(1);
            NDArray ma = Randn.randn(manager, new Shape(4096, 4096), rng);
            NDArray mb = Randn.randn(manager, new Shape(4096, 4096), rng);
            Runnable matmul = () -> ma.matMul(mb).close();
            // implementations in the outer loop, in declaration order: the fused one runs first
            for (Impl impl : impls) {
                for (String spec : shapes) {
                    long[] s = Arrays.stream(spec.split(",")).mapToLong(Long::parseLong).toArray();
                    rows.add(measurePaired(manager, impl, spec, s, matmul, iters));
                }
            }
        }
        run.put("loadAverageEnd", loadAverage());
        run.put("results", rows);
        return run;
    }

    /** 1-minute load average: the machine is shared, and a load above the core count inflates every time. */
    private static double loadAverage() throws IOException {
        return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }

    /**
     * Times the attention call and the 4096³ matmul alternately, so that both see the same load on
     * the shared machine; the ratio is the median of the per-pair ratios.
     */
    private static Map<String, Object> measurePaired(
            NDManager manager, Impl impl, String spec, long[] s, Runnable matmul, int iters) {
        long b = s[0];
        long n = s[1];
        long m = s[2];
        long c = s[3];
        int heads = (int) s[4];
        try (NDManager sub = manager.newSubManager()) {
            Random rng = new Random(2);
            NDArray q = Randn.randn(sub, new Shape(b, n, c), rng);
            NDArray k = Randn.randn(sub, new Shape(b, m, c), rng);
            NDArray v = Randn.randn(sub, new Shape(b, m, c), rng);
            Runnable attention = () -> {
                try (NDManager step = sub.newSubManager()) {
                    q.tempAttach(step);
                    impl.run(q, k, v, heads);
                }
            };
            double attentionFlops = 4.0 * b * n * m * c;
            double matmulFlops = 2.0 * 4096 * 4096 * 4096;
            attention.run();
            matmul.run();
            List<Double> att = new ArrayList<>();
            List<Double> mm = new ArrayList<>();
            List<Double> ratio = new ArrayList<>();
            for (int i = 0; i < iters; i++) {
                double ga = attentionFlops / seconds(attention) / 1e9;
                double gm = matmulFlops / seconds(matmul) / 1e9;
                att.add(ga);
                mm.add(gm);
                ratio.add(ga / gm);
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("shape", spec);
            row.put("impl", impl.name());
            row.put("gflops", round(median(att)));
            row.put("matmulGflops", round(median(mm)));
            row.put("ratio", Math.round(1000 * median(ratio)) / 1000.0);
            System.err.printf("%-18s %-13s %7.1f GFLOP/s, matmul %6.1f, ratio %.3f%n",
                    spec, impl, median(att), median(mm), median(ratio));
            return row;
        }
    }

    private static double seconds(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return (System.nanoTime() - start) / 1e9;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> summarize(
            List<Map<String, Object>> runs, List<String> shapes, List<Impl> impls) {
        List<Map<String, Object>> summary = new ArrayList<>();
        for (String shape : shapes) {
            for (Impl impl : impls) {
                List<Double> g = new ArrayList<>();
                List<Double> mm = new ArrayList<>();
                List<Double> r = new ArrayList<>();
                for (Map<String, Object> run : runs) {
                    for (Map<String, Object> row : (List<Map<String, Object>>) run.get("results")) {
                        if (row.get("shape").equals(shape) && row.get("impl").equals(impl.name())) {
                            g.add(((Number) row.get("gflops")).doubleValue());
                            mm.add(((Number) row.get("matmulGflops")).doubleValue());
                            r.add(((Number) row.get("ratio")).doubleValue());
                        }
                    }
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("shape", shape);
                row.put("impl", impl.name());
                row.put("description", impl.description);
                row.put("medianGflops", median(g));
                row.put("medianMatmulGflops", median(mm));
                row.put("medianRatio", median(r));
                row.put("ratios", r);
                summary.add(row);
            }
        }
        return summary;
    }

    @SuppressWarnings("unchecked")
    private static String markdown(Map<String, Object> report, List<String> shapes, List<Impl> impls) {
        StringBuilder md = new StringBuilder("# Attention benchmark\n\n");
        md.append("Command: `").append(report.get("command")).append("`  \n");
        md.append("Date: ").append(report.get("date")).append(", ").append(report.get("cores"))
                .append(" cores, threads: ").append(report.get("threads")).append(", fp32.  \n");
        md.append("Shapes are B,N,M,C,heads (q (B,N,C), k and v (B,M,C)); ").append(report.get("statistic"))
                .append("; the table shows medians over runs.\n\n");
        md.append("1-minute load average per run (start → end), on ").append(report.get("cores")).append(" cores: ");
        for (Map<String, Object> run : (List<Map<String, Object>>) report.get("runs")) {
            md.append(run.get("loadAverageStart")).append(" → ").append(run.get("loadAverageEnd")).append("; ");
        }
        md.append("\n\n| shape | implementation | GFLOP/s | matmul GFLOP/s | vs matmul | ratio per run |\n");
        md.append("|---|---|---|---|---|---|\n");
        for (Map<String, Object> row : (List<Map<String, Object>>) report.get("summary")) {
            md.append("| ").append(row.get("shape")).append(" | ").append(row.get("description")).append(" | ")
                    .append(row.get("medianGflops")).append(" | ").append(row.get("medianMatmulGflops")).append(" | ")
                    .append(Math.round(100 * (Double) row.get("medianRatio"))).append("% | ")
                    .append(row.get("ratios")).append(" |\n");
        }
        return md.toString();
    }

    private static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
    }

    /**
     * Baseline (a): per (batch, head), queries in chunks, so only a (chunk, M) score block exists at a
     * time. Slices are strided views that BLAS reads in place; scores are closed as soon as used.
     */
    static NDArray chunked(NDArray q, NDArray k, NDArray v, int heads, int chunk) {
        long b = q.getShape().get(0);
        long n = q.getShape().get(1);
        long d = q.getShape().get(2) / heads;
        NDArray qs = q.mul((float) (1 / Math.sqrt(d)));                   // (B, N, H·D)
        NDList batches = new NDList();
        for (long bi = 0; bi < b; bi++) {
            NDList perHead = new NDList();
            for (long h = 0; h < heads; h++) {
                String cols = ":, " + h * d + ":" + (h + 1) * d;
                NDArray kh = k.get(bi).get(cols);                          // (M, D)
                NDArray kt = kh.transpose();                               // (D, M)
                NDArray vh = v.get(bi).get(cols);                          // (M, D)
                NDList parts = new NDList();
                for (long i = 0; i < n; i += chunk) {
                    NDArray qc = qs.get(bi).get(i + ":" + Math.min(n, i + chunk) + ", " + h * d + ":" + (h + 1) * d);
                    NDArray scores = qc.matMul(kt);                        // (chunk, M)
                    NDArray p = scores.softmax(-1);
                    scores.close();
                    parts.add(p.matMul(vh));                               // (chunk, D)
                    p.close();
                    qc.close();
                }
                perHead.add(parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0));   // (N, D)
                kh.close();
                kt.close();
                vh.close();
            }
            batches.add(NDArrays.concat(perHead, 1));                     // (N, H·D)
            perHead.close();
        }
        qs.close();
        return NDArrays.stack(batches, 0);                                 // (B, N, H·D)
    }

    private static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }
}
