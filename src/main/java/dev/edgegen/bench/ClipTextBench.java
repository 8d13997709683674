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
 * java -cp target/classes:$(cat target/cp.txt) dev.edgegen.bench.ClipTextBench [iterations] [outDir]
 * </pre>
 * Writes {@code clip-text-encoder.json} and {@code .md} to outDir (default docs/results).
 */
public final class ClipTextBench {
    private ClipTextBench() {}

    public static void main(String[] args) throws IOException {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path outDir = Path.of(args.length > 1 ? args[1] : "docs/results");
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
        double warmupMs;
        double initS;
        try (NDManager manager = NDManager.newBaseManager()) {
            ClipTextModel model = new ClipTextModel(config);
            long t0 = System.nanoTime();
            model.initialize(manager, 0.02f, 0);
            initS = (System.nanoTime() - t0) / 1e9;
            NDArray ids = ClipTokenizer.Tokens.batch(manager, List.of(tokenizer.encode(prompt), tokenizer.encode("")));
            warmupMs = time(model, ids);
            for (int i = 0; i < iterations; i++) {
                ms[i] = time(model, ids);
            }
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = iterations % 2 == 1 ? sorted[iterations / 2] : (sorted[iterations / 2 - 1] + sorted[iterations / 2]) / 2;
        double mean = Arrays.stream(ms).average().orElse(0);
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();

        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("benchmark", "CLIP ViT-L/14 text encoder forward, random weights (std 0.02), fp32");
        r.put("command", "java -cp target/classes:$(cat target/cp.txt) dev.edgegen.bench.ClipTextBench " + iterations);
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
        r.put("weight_init_s", round(initS));
        r.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
        r.put("cpus", Runtime.getRuntime().availableProcessors());
        r.put("load_average_1min", round(load));
        r.put("java", System.getProperty("java.version"));
        Files.createDirectories(outDir);
        json.writerWithDefaultPrettyPrinter().writeValue(outDir.resolve("clip-text-encoder.json").toFile(), r);
        String md = "# CLIP text encoder latency (SD-1.5, ViT-L/14 text tower)\n\n"
                + "Command: `" + r.get("command").asText() + "` (after `mvn -B -q compile dependency:build-classpath "
                + "-Dmdep.outputFile=target/cp.txt`). Random weights, fp32, batch 2 × 77 tokens, "
                + r.get("engine").asText() + ", " + r.get("cpus").asInt() + " CPUs, 1-min load average "
                + r.get("load_average_1min").asDouble() + " (machine shared with other jobs).\n\n"
                + "| iterations | warm-up ms | median ms | min ms | max ms | mean ms |\n|---|---|---|---|---|---|\n"
                + "| " + iterations + " | " + round(warmupMs) + " | " + round(median) + " | " + round(sorted[0]) + " | "
                + round(sorted[iterations - 1]) + " | " + round(mean) + " |\n";
        Files.writeString(outDir.resolve("clip-text-encoder.md"), md);
        System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(r));
    }

    private static long model(ClipTextConfig config) {
        return new ClipTextModel(config).parameterCount();
    }

    private static double time(ClipTextModel model, NDArray ids) {
        try (NDManager step = ids.getManager().newSubManager()) {
            long t = System.nanoTime();
            NDArray out = model.forward(ids);
            out.toFloatArray();
            double ms = (System.nanoTime() - t) / 1e6;
            out.tempAttach(step);
            return ms;
        }
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
