package dev.edgegen.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.tensor.Randn;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.unet.UNetConfig;
import dev.edgegen.vae.AutoencoderKL;
import dev.edgegen.vae.VAEConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.edgegen.unet.BlockCost;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Random;

/**
 * Times one SD-1.5 UNet forward and one VAE decode with random weights (real shapes, 512×512 image,
 * 64×64 latent) and writes docs/results/model_bench.{json,md} and the UNet's per-block latency table
 * docs/results/unet_block_latency.{json,md}.
 * Usage: ModelBench [--unet-batch 2] [--vae-batch 1] [--iters 3] [--out docs/results]
 */
public final class ModelBench {
    private ModelBench() {}

    public static void main(String[] args) throws IOException {
        int unetBatch = 2;
        int vaeBatch = 1;
        int iters = 3;
        Path out = Path.of("docs/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--unet-batch" -> unetBatch = Integer.parseInt(args[++i]);
                case "--vae-batch" -> vaeBatch = Integer.parseInt(args[++i]);
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --unet-batch N, --vae-batch N, --iters N, --out DIR");
            }
        }
        if (unetBatch < 1 || vaeBatch < 1 || iters < 2) {
            throw new IllegalArgumentException("batches must be at least 1 and --iters at least 2 (the first run is a warm-up)");
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode result = json.createObjectNode();
        result.put("command", "java -cp ... dev.edgegen.bench.ModelBench --unet-batch " + unetBatch
                + " --vae-batch " + vaeBatch + " --iters " + iters);
        result.put("threads", Runtime.getRuntime().availableProcessors());
        result.put("note", "fp32, random weights, medians after one warm-up run; the machine is shared, so treat as rough");

        try (NDManager weights = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(UNetConfig.sd15());
            unet.initialize(weights, 0.02f, 1);
            long flops = unet.flops(unetBatch, 64, 64, 77);
            double[] secs = new double[iters];
            double[] cpu = new double[iters];
            Map<String, List<Long>> blockNanos = new LinkedHashMap<>();
            try (NDManager step = weights.newSubManager()) {
                NDArray x = Randn.randn(step, new Shape(unetBatch, 4, 64, 64), new Random(1));
                float[] ts = new float[unetBatch];
                Arrays.fill(ts, 500f);
                NDArray t = step.create(ts);
                NDArray ctx = Randn.randn(step, new Shape(unetBatch, 77, 768), new Random(2));
                for (int i = 0; i < iters; i++) {
                    long t0 = System.nanoTime();
                    long c0 = cpuNanos();
                    int run = i;
                    unet.forward(x, t, ctx, (path, ns) -> {
                        if (run > 0) blockNanos.computeIfAbsent(path, k -> new java.util.ArrayList<>()).add(ns);
                    }).close();
                    secs[i] = (System.nanoTime() - t0) / 1e9;
                    cpu[i] = (cpuNanos() - c0) / 1e9;
                    System.out.printf(Locale.ROOT, "unet forward %d: %.2f s (process CPU %.2f s)%n", i, secs[i], cpu[i]);
                }
            }
            record(result.putObject("unet_sd15"), unetBatch, flops, secs, cpu);
            writeBlockTable(json, out, unet.blockCosts(unetBatch, 64, 64, 77), blockNanos, unetBatch);
        }
        try (NDManager weights = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(VAEConfig.sd15());
            vae.initialize(weights, 0.02f, 2);
            long flops = vae.decodeFlops(vaeBatch, 64, 64);
            double[] secs = new double[iters];
            double[] cpu = new double[iters];
            try (NDManager step = weights.newSubManager()) {
                NDArray z = Randn.randn(step, new Shape(vaeBatch, 4, 64, 64), new Random(3));
                for (int i = 0; i < iters; i++) {
                    long t0 = System.nanoTime();
                    long c0 = cpuNanos();
                    vae.decode(z).close();
                    secs[i] = (System.nanoTime() - t0) / 1e9;
                    cpu[i] = (cpuNanos() - c0) / 1e9;
                    System.out.printf(Locale.ROOT, "vae decode %d: %.2f s (process CPU %.2f s)%n", i, secs[i], cpu[i]);
                }
            }
            record(result.putObject("vae_decode_sd15"), vaeBatch, flops, secs, cpu);
        }

        Files.createDirectories(out);
        json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("model_bench.json").toFile(), result);
        StringBuilder md = new StringBuilder("# SD-1.5 model speed (random weights, 512x512 image, 64x64 latent, fp32)\n\n")
                .append("Command: `").append(result.get("command").asText()).append("`  \n")
                .append(result.get("note").asText()).append(".\n\n")
                .append("CPU s is the process's CPU time (all threads) per run; with ").append(result.get("threads").asInt())
                .append(" cores, CPU s / cores is about what an idle machine would take.\n\n")
                .append("| model | batch | GFLOPs | median wall s | GFLOP/s (wall) | median CPU s | GFLOP/s per CPU-s |\n|---|---|---|---|---|---|---|\n");
        for (String k : new String[] {"unet_sd15", "vae_decode_sd15"}) {
            var n = result.get(k);
            md.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.2f | %.1f | %.2f | %.1f |%n", k, n.get("batch").asInt(),
                    n.get("gflops").asDouble(), n.get("median_seconds").asDouble(), n.get("gflops_per_second").asDouble(),
                    n.get("median_cpu_seconds").asDouble(), n.get("gflops").asDouble() / n.get("median_cpu_seconds").asDouble()));
        }
        Files.writeString(out.resolve("model_bench.md"), md.toString());
        System.out.print(md);
    }

    /** docs/results/unet_block_latency.{json,md}: per-block median wall time next to its FLOPs and parameters. */
    private static void writeBlockTable(ObjectMapper json, Path out, List<BlockCost> costs, Map<String, List<Long>> nanos,
                                        int batch) throws IOException {
        var rows = json.createArrayNode();
        StringBuilder md = new StringBuilder("# SD-1.5 UNet per-block latency (batch ").append(batch)
                .append(", 64x64 latent, 77 context tokens, fp32, random weights)\n\n")
                .append("From `ModelBench` (see model_bench.md). Up-block resnet times include the skip concatenation.\n\n")
                .append("| block | params | GFLOPs | median ms | GFLOP/s |\n|---|---|---|---|---|\n");
        double total = 0;
        for (BlockCost c : costs) {
            List<Long> ns = nanos.getOrDefault(c.path(), List.of());
            double[] ms = ns.stream().mapToDouble(v -> v / 1e6).sorted().toArray();
            double median = ms.length == 0 ? Double.NaN
                    : ms.length % 2 == 1 ? ms[ms.length / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
            total += median;
            var r = rows.addObject();
            r.put("path", c.path());
            r.put("params", c.params());
            r.put("gflops", c.flops() / 1e9);
            r.put("median_ms", median);
            md.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.1f | %.1f |%n", c.path(), c.params(), c.flops() / 1e9,
                    median, c.flops() / 1e6 / median));
        }
        md.append(String.format(Locale.ROOT, "| total | | %.1f | %.0f | |%n",
                costs.stream().mapToLong(BlockCost::flops).sum() / 1e9, total));
        Files.createDirectories(out);
        json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("unet_block_latency.json").toFile(), rows);
        Files.writeString(out.resolve("unet_block_latency.md"), md.toString());
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Median of all runs but the first (warm-up). */
    private static double median(double[] runs) {
        double[] timed = Arrays.copyOfRange(runs, 1, runs.length);
        Arrays.sort(timed);
        return timed.length % 2 == 1 ? timed[timed.length / 2] : (timed[timed.length / 2 - 1] + timed[timed.length / 2]) / 2;
    }

    private static void record(ObjectNode n, int batch, long flops, double[] secs, double[] cpu) {
        double median = median(secs);
        n.put("batch", batch);
        n.put("gflops", flops / 1e9);
        n.put("median_seconds", median);
        n.put("gflops_per_second", flops / 1e9 / median);
        n.put("median_cpu_seconds", median(cpu));
        var runs = n.putArray("seconds");
        for (double s : secs) runs.add(s);
        var cpuRuns = n.putArray("cpu_seconds");
        for (double s : cpu) cpuRuns.add(s);
    }
}
