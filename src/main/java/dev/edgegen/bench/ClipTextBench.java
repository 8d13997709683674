package dev.edgegen.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.text.ClipTextConfig;
import dev.edgegen.text.ClipTextModel;
import dev.edgegen.text.ClipTokenizer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * Latency of the SD-1.5 text encoder (CLIP ViT-L/14 text tower, random weights) for one CFG batch:
 * the prompt and the empty negative prompt, (2, 77) → (2, 77, 768). One warm-up, then timed runs.
 *
 * <pre>
 * mvn -B -q compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:$(cat target/cp.txt) dev.edgegen.bench.ClipTextBench [iterations] [outDir] [name]
 * </pre>
 * Writes {@code name.json} and {@code name.md} (default clip-text-encoder) to outDir (default docs/results).
 * The OpenMP environment (OMP_WAIT_POLICY, OMP_NUM_THREADS) is recorded: on a loaded machine it decides the result.
 */
public final class ClipTextBench {
    private ClipTextBench() {}

    public static void main(String[] args) throws IOException {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path outDir = Path.of(args.length > 1 ? args[1] : "docs/results");
        String name = args.length > 2 ? args[2] : "clip-text-encoder";
        String env = "OMP_WAIT_POLICY=" + System.getenv().getOrDefault("OMP_WAIT_POLICY", "(unset)")
                + " OMP_NUM_THREADS=" + System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)");
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
        }
        Path tokDir = ClipTokenizer.realVocabulary().orElse(null);
        String vocab = "real CLIP (" + ClipTokenizer.FETCHED_VOCABULARY + ")";
        if (tokDir == null) {
            tokDir = Files.createTempDirectory("edgegen-tokenizer");
            ClipTokenizer.writeMinimalVocabulary(tokDir);
            vocab = "minimal byte-level";
        }
        ClipTokenizer tokenizer = ClipTokenizer.load(tokDir);
        String prompt = "a photo of an astronaut riding a horse on mars";
        ClipTextConfig config = ClipTextConfig.vitL14();
        double[] ms = new double[iterations];
        double[] cpuMs = new double[iterations];
        double warmupMs;
        double initS;
        try (NDManager manager = NDManager.newBaseManager()) {
            ClipTextModel model = new ClipTextModel(config);
            long t0 = System.nanoTime();
            model.initialize(manager, 0.02f, 0);
            initS = (System.nanoTime() - t0) / 1e9;
            NDArray ids = ClipTokenizer.Tokens.batch(manager, List.of(tokenizer.encode(prompt), tokenizer.encode("")));
            warmupMs = time(model, ids)[0];
            for (int i = 0; i < iterations; i++) {
                double[] t = time(model, ids);
                ms[i] = t[0];
                cpuMs[i] = t[1];
            }
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = median(sorted);
        double[] sortedCpu = cpuMs.clone();
        Arrays.sort(sortedCpu);
        double medianCpu = median(sortedCpu);
        double mean = Arrays.stream(ms).average().orElse(0);
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();

        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("benchmark", "CLIP ViT-L/14 text encoder forward, random weights (std 0.02), fp32");
        r.put("command", commandPrefix() + "java -cp target/classes:$(cat target/cp.txt) dev.edgegen.bench.ClipTextBench "
                + iterations + " " + outDir + " " + name);
        r.put("openmp_env", env);
        r.put("date", Instant.now().toString());
        r.put("batch", 2);
        r.put("sequence_length", tokenizer.maxLength());
        r.put("prompts", prompt + " | (empty)");
        r.put("vocabulary", vocab);
        r.put("parameters", model(config));
        r.put("iterations", iterations);
        r.put("warmup_ms", round(warmupMs));
        r.put("median_ms", round(median));
        r.put("min_ms", round(sorted[0]));
        r.put("max_ms", round(sorted[iterations - 1]));
        r.put("mean_ms", round(mean));
        r.putPOJO("all_ms", Arrays.stream(ms).map(ClipTextBench::round).toArray());
        r.put("median_process_cpu_ms", round(medianCpu));
        r.put("gflop_per_forward", round(gflop(config, 2 * tokenizer.maxLength())));
        r.put("gflops_at_min_ms", round(gflop(config, 2 * tokenizer.maxLength()) / (sorted[0] / 1000)));
        r.put("weight_init_s", round(initS));
        r.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        r.put("cpus", Runtime.getRuntime().availableProcessors());
        r.put("load_average_1min", round(load));
        r.put("java", System.getProperty("java.version"));
        Files.createDirectories(outDir);
        json.writerWithDefaultPrettyPrinter().writeValue(outDir.resolve(name + ".json").toFile(), r);
        String md = "# CLIP text encoder latency (SD-1.5, ViT-L/14 text tower)\n\n"
                + "Command: `" + r.get("command").asText() + "` (after `mvn -B -q compile dependency:build-classpath "
                + "-Dmdep.outputFile=target/cp.txt`). Random weights, fp32, batch 2 × 77 tokens, "
                + r.get("engine").asText() + ", " + env + ", " + r.get("cpus").asInt() + " CPUs, 1-min load average "
                + r.get("load_average_1min").asDouble() + " (machine shared with other jobs).\n\n"
                + "| iterations | warm-up ms | median ms | min ms | max ms | mean ms | median process CPU ms | GFLOP | GFLOP/s at min |\n"
                + "|---|---|---|---|---|---|---|---|---|\n"
                + "| " + iterations + " | " + round(warmupMs) + " | " + round(median) + " | " + round(sorted[0]) + " | "
                + round(sorted[iterations - 1]) + " | " + round(mean) + " | " + round(medianCpu) + " | "
                + r.get("gflop_per_forward").asDouble() + " | " + r.get("gflops_at_min_ms").asDouble() + " |\n\n"
                + "Wall times spread with the other jobs' load; the minimum is the closest to an idle machine, and the "
                + "process CPU time (all threads) shows the work itself.\n";
        Files.writeString(outDir.resolve(name + ".md"), md);
        System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(r));
    }

    /** The OpenMP variables set for this run, as they would be typed before the command. */
    private static String commandPrefix() {
        StringBuilder sb = new StringBuilder();
        for (String k : List.of("OMP_WAIT_POLICY", "OMP_NUM_THREADS")) {
            String v = System.getenv(k);
            if (v != null) {
                sb.append(k).append('=').append(v).append(' ');
            }
        }
        return sb.toString();
    }

    private static long model(ClipTextConfig config) {
        return new ClipTextModel(config).parameterCount();
    }

    /** {wall ms, process CPU ms} of one forward pass. */
    private static double[] time(ClipTextModel model, NDArray ids) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (NDManager step = ids.getManager().newSubManager()) {
            long cpu = os.getProcessCpuTime();
            long t = System.nanoTime();
            NDArray out = model.forward(ids);
            out.toFloatArray();
            double ms = (System.nanoTime() - t) / 1e6;
            double cpuMs = (os.getProcessCpuTime() - cpu) / 1e6;
            out.tempAttach(step);
            return new double[] {ms, cpuMs};
        }
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Matmul FLOPs (2 per multiply-add) of the linear layers and attention for `tokens` tokens in sequences of 77. */
    private static double gflop(ClipTextConfig c, int tokens) {
        double d = c.hiddenSize();
        double perTokenPerLayer = 2 * (4 * d * d + 2 * d * c.intermediateSize()) + 2 * 2 * c.maxPositionEmbeddings() * d;
        return perTokenPerLayer * c.numHiddenLayers() * tokens / 1e9;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
