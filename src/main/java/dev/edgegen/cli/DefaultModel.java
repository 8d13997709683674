package dev.edgegen.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The built-in model: {@code models/default} in the EdgeGen folder, a small text-to-image model trained by
 * this project (scripts/train-default.sh) and committed with it.
 */
final class DefaultModel {
    private DefaultModel() {}

    static Path path() {
        Path trained = ModelOption.home().resolve("models/default");
        if (!Files.isRegularFile(trained.resolve("model_index.json"))) {
            throw new IllegalArgumentException("the built-in model is missing from " + trained
                    + "; restore it (`git checkout -- models/default`), retrain it with scripts/train-default.sh, "
                    + "or pass --model DIR");
        }
        return trained;
    }
}
