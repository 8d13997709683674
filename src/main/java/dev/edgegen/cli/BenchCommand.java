package dev.edgegen.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.bench.Ceiling;
import dev.edgegen.bench.Stats;
import dev.edgegen.pipeline.GenerationRequest;
import dev.edgegen.pipeline.ModelLoader;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.pipeline.TextToImage;
import dev.edgegen.tensor.Autocast;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.edgegen.unet.BlockCost;
import dev.edgegen.unet.BlockTimer;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time each component and compare its GFLOP/s with a large matmul measured in the same run.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Mixin
    PrecisionOption precision;

    @Option(names = {"-W", "--width"}) Integer width;
    @Option(names = {"-H", "--height"}) Integer height;

    @Option(names = "--iterations", description = "Timed runs per measurement, after one warm-up (default: ${DEFAULT-VALUE}).")
    int iterations = 3;

    @Option(names = "--memory-steps", description = "Also run a full generation of N steps and record RSS after each (default: off).")
    int memorySteps = 0;

    @Option(names = "--blocks", description = "Also time every UNet block at batch 2 (SnapFusion's latency lookup table).")
    boolean blocks;

    @Option(names = "--json", description = "Write the results as JSON here, and a markdown table beside it (.md).")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (iterations < 1) throw new IllegalArgumentException("--iterations must be at least 1");
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode out = mapper.createObjectNode();
        try (Autocast.Scope p = precision.apply(); NDManager root = NDManager.newBaseManager();
             StableDiffusion sd = ModelLoader.load(model.resolve(), root)) {
            int f = sd.vae.config.downscale();
            int side = sd.unet.config.sampleSize() * f;
            int w = width != null ? width : side;
            int h = height != null ? height : side;
            new GenerationRequest("", "", 1, 1, "ddim", 0, w, h, 1, null, 1, null, null, null); // validates w, h
            int lh = h / f;
            int lw = w / f;
            int ctxLen = sd.textEncoder.tokenize("").ids().length;
            out.put("model", sd.name);
            out.put("width", w);
            out.put("height", h);
            out.put("precision", precision.precision);
            out.put("iterations", iterations);
            out.put("threads", Runtime.getRuntime().availableProcessors());

            System.err.println("edgegen: measuring the matmul ceiling (4096^3)...");
            double ceilingBefore = Ceiling.matmulGflops(root, 4096, Math.max(3, iterations));

            System.err.println("edgegen: text encoder...");
            double textMs = Stats.medianMs(1, iterations, () -> {
                try (NDManager m = root.newSubManager()) {
                    sd.textEncoder.encode(List.of("a photo of a cat", ""), m).getFloat(0, 0, 0);
                }
            });
            out.put("text_encoder_ms_batch2", round(textMs));

            ArrayNode unets = out.putArray("unet");
            Map<String, List<Double>> blockMs = new LinkedHashMap<>();
            for (int batch : new int[] {1, 2}) {
                System.err.printf("edgegen: unet, batch %d...%n", batch);
                BlockTimer timer = blocks && batch == 2
                        ? (path, ns) -> blockMs.computeIfAbsent(path, k -> new ArrayList<>()).add(ns / 1e6) : null;
                double ms = Stats.medianMs(1, iterations, () -> unetOnce(sd, root, batch, lh, lw, ctxLen, timer));
                double gflop = sd.unet.flops(batch, lh, lw, ctxLen) / 1e9;
                ObjectNode u = unets.addObject();
                u.put("batch", batch);
                u.put("ms", round(ms));
                u.put("gflop", round(gflop));
                u.put("gflops_per_s", round(gflop / (ms / 1e3)));
            }

            if (blocks) {
                ArrayNode rows = out.putArray("unet_blocks_batch2");
                for (BlockCost c : sd.unet.blockCosts(2, lh, lw, ctxLen)) {
                    List<Double> ms = blockMs.getOrDefault(c.path(), List.of());
                    ObjectNode row = rows.addObject();
                    row.put("path", c.path());
                    row.put("params", c.params());
                    row.put("gflop", round(c.flops() / 1e9));
                    row.put("ms", ms.isEmpty() ? Double.NaN
                            : round(Stats.median(ms.stream().mapToDouble(Double::doubleValue).toArray())));
                }
            }

            System.err.println("edgegen: decoder...");
            double decMs = Stats.medianMs(1, iterations, () -> {
                try (NDManager m = root.newSubManager()) {
                    NDArray z = m.randomNormal(new Shape(1, sd.unet.config.outChannels(), lh, lw));
                    sd.vae.decode(z).getFloat(0, 0, 0, 0);
                }
            });
            double decGflop = sd.vae.decodeFlops(1, lh, lw) / 1e9;
            ObjectNode d = out.putObject("decoder");
            d.put("ms", round(decMs));
            d.put("gflop", round(decGflop));
            d.put("gflops_per_s", round(decGflop / (decMs / 1e3)));

            // The ceiling is measured before and after; the higher one is used, so a busy moment
            // during one of them cannot flatter the ratios.
            System.err.println("edgegen: measuring the matmul ceiling again...");
            double ceilingAfter = Ceiling.matmulGflops(root, 4096, Math.max(3, iterations));
            double ceiling = Math.max(ceilingBefore, ceilingAfter);
            out.put("matmul_4096_gflops", round(ceiling));
            out.put("matmul_4096_gflops_before", round(ceilingBefore));
            out.put("matmul_4096_gflops_after", round(ceilingAfter));
            out.put("load_average_1min", round(java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
            for (var u : unets) {
                ((ObjectNode) u).put("fraction_of_matmul", round(u.get("gflops_per_s").asDouble() / ceiling));
            }
            d.put("fraction_of_matmul", round(decGflop / (decMs / 1e3) / ceiling));

            if (memorySteps > 0) {
                ArrayNode rss = out.putArray("rss_mb_after_step");
                GenerationRequest r = new GenerationRequest("a photo of a cat", "", memorySteps, 7.5f, "ddim", 1,
                        w, h, 1, null, 1, null, null, null);
                try (ProgressBar bar = new ProgressBar(System.err, "generation", memorySteps)) {
                    new TextToImage(sd).generate(r, (i, n, t) -> {
                        rss.add(Rss.currentMb());
                        bar.step(i);
                    });
                }
            }
            out.put("peak_rss_mb", Rss.peakMb());
        }
        String text = mapper.writerWithDefaultPrettyPrinter().writeValueAsString(out);
        System.out.println(text);
        if (json != null) {
            java.nio.file.Files.writeString(json, text + "\n");
            String name = json.getFileName().toString().replaceFirst("\\.json$", "") + ".md";
            java.nio.file.Files.writeString(json.resolveSibling(name), markdown(out));
        }
        return 0;
    }

    /** A short table of the results, for docs/results. */
    static String markdown(ObjectNode o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(java.util.Locale.ROOT, "# edgegen bench: %s, %dx%d, %s%n%n", o.get("model").asText(),
                o.get("width").asInt(), o.get("height").asInt(), o.path("precision").asText("float32")));
        sb.append(String.format(java.util.Locale.ROOT,
                "Same-run ceiling: 4096³ fp32 matmul at %.1f GFLOP/s (the higher of %.1f before and %.1f after); "
                        + "%d threads; median of %d runs after a warm-up; load average %.1f at the end.%n%n",
                o.get("matmul_4096_gflops").asDouble(), o.get("matmul_4096_gflops_before").asDouble(),
                o.get("matmul_4096_gflops_after").asDouble(), o.get("threads").asInt(), o.get("iterations").asInt(),
                o.get("load_average_1min").asDouble()));
        sb.append("| component | ms | GFLOP | GFLOP/s | vs matmul |\n|---|---|---|---|---|\n");
        sb.append(String.format(java.util.Locale.ROOT, "| text encoder (2 prompts) | %.0f | | | |%n",
                o.get("text_encoder_ms_batch2").asDouble()));
        for (var u : o.get("unet")) {
            sb.append(String.format(java.util.Locale.ROOT, "| UNet, batch %d | %.0f | %.1f | %.1f | %.0f%% |%n",
                    u.get("batch").asInt(), u.get("ms").asDouble(), u.get("gflop").asDouble(),
                    u.get("gflops_per_s").asDouble(), 100 * u.get("fraction_of_matmul").asDouble()));
        }
        var d = o.get("decoder");
        sb.append(String.format(java.util.Locale.ROOT, "| VAE decode | %.0f | %.1f | %.1f | %.0f%% |%n",
                d.get("ms").asDouble(), d.get("gflop").asDouble(), d.get("gflops_per_s").asDouble(),
                100 * d.get("fraction_of_matmul").asDouble()));
        if (o.has("rss_mb_after_step")) {
            var r = o.get("rss_mb_after_step");
            sb.append(String.format(java.util.Locale.ROOT, "%nRSS during a %d-step generation: %d MB after step 1, %d MB after the last.%n",
                    r.size(), r.get(0).asLong(), r.get(r.size() - 1).asLong()));
        }
        if (o.has("unet_blocks_batch2")) {
            sb.append("\n## UNet blocks, batch 2 (median ms; the first run is a warm-up)\n\n")
                    .append("| block | params | GFLOP | ms | GFLOP/s |\n|---|---|---|---|---|\n");
            for (var b : o.get("unet_blocks_batch2")) {
                double ms = b.get("ms").asDouble();
                sb.append(String.format(java.util.Locale.ROOT, "| %s | %d | %.2f | %.1f | %.1f |%n", b.get("path").asText(),
                        b.get("params").asLong(), b.get("gflop").asDouble(), ms, b.get("gflop").asDouble() / (ms / 1e3)));
            }
        }
        sb.append(String.format(java.util.Locale.ROOT, "%nPeak RSS: %d MB.%n", o.get("peak_rss_mb").asLong()));
        return sb.toString();
    }

    private static void unetOnce(StableDiffusion sd, NDManager root, int batch, int lh, int lw, int ctxLen,
                                 BlockTimer timer) {
        try (NDManager m = root.newSubManager()) {
            NDArray x = m.randomNormal(new Shape(batch, sd.unet.config.inChannels(), lh, lw));
            NDArray t = m.full(new Shape(batch), 500f);
            NDArray ctx = m.randomNormal(new Shape(batch, ctxLen, sd.unet.config.crossAttentionDim()));
            sd.unet.forward(x, t, ctx, timer).getFloat(0, 0, 0, 0); // timer may be null
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

}
