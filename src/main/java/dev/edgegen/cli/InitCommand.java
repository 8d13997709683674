package dev.edgegen.cli;

import ai.djl.ndarray.NDManager;
import dev.edgegen.pipeline.Architecture;
import dev.edgegen.pipeline.ModelWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a complete diffusers-layout model directory with random weights (for benchmarks and tests).")
final class InitCommand implements Callable<Integer> {
    @Option(names = "--arch", required = true, description = "sd15, bk-sdm-small, bk-sdm-tiny or tiny.")
    String arch;

    @Option(names = "--random", required = true, description = "Random weights (std-0.02 normal, unit norms); the only source for now.")
    boolean random;

    @Option(names = "--seed", description = "Seed of the random weights (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = {"-o", "--output"}, required = true, description = "New model directory.")
    Path output;

    @Override
    public Integer call() {
        Architecture a = Architecture.fromName(arch);
        long t = System.nanoTime();
        try (NDManager m = NDManager.newBaseManager()) {
            ModelWriter.writeRandom(a, seed, output, m);
        }
        System.err.printf("edgegen: wrote %s model to %s in %.1f s%n", a.cliName, output, (System.nanoTime() - t) / 1e9);
        System.out.println(output);
        return 0;
    }
}
