package dev.edgegen.cli;

import ai.djl.ndarray.NDManager;
import dev.edgegen.pipeline.Architecture;
import dev.edgegen.pipeline.ModelWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The built-in model: {@code models/default} in the EdgeGen folder. Until a trained default
 * model is shipped there, a tiny randomly initialised model is made on first use under
 * {@code models/.random-tiny} (its images are noise; it proves the pipeline runs).
 */
final class DefaultModel {
    private DefaultModel() {}

    static Path path() {
        Path trained = ModelOption.home().resolve("models/default");
        if (Files.isDirectory(trained)) return trained;
        Path random = ModelOption.home().resolve("models/.random-tiny");
        if (!Files.isDirectory(random)) {
            System.err.println("edgegen: no trained default model in " + trained
                    + "; making a tiny random-weight model in " + random + " (its images are noise)");
            try (NDManager m = NDManager.newBaseManager()) {
                ModelWriter.writeRandom(Architecture.TINY, 0, random, m);
            }
        }
        return random;
    }
}
