package dev.edgegen.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import picocli.CommandLine.Option;

/** The shared `--model` option and the default-model rule. */
final class ModelOption {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR|FILE",
            description = "Diffusers model directory or SD-1.x .safetensors file (default: the built-in model).")
    Path model;

    /** --model, else $EDGEGEN_MODEL, else the built-in model (made on first use if absent). */
    Path resolve() {
        if (model != null) return model;
        String env = System.getenv("EDGEGEN_MODEL");
        if (env != null && !env.isBlank()) return Paths.get(env);
        return DefaultModel.path();
    }

    static Path home() {
        String h = System.getProperty("edgegen.home");
        return h == null ? Paths.get(".") : Paths.get(h);
    }

    static boolean exists(Path p) {
        return Files.exists(p);
    }
}
