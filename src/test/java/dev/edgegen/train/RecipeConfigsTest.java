package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every training config the repository ships under configs/ still reads (keys, types, ranges), so a recipe never rots. */
class RecipeConfigsTest {
    @Test
    void everyShippedConfigReads() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(Path.of("configs"))) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertTrue(files.size() > 20, "configs/ holds the recipes; found " + files.size());
        for (Path f : files) assertDoesNotThrow(() -> TrainConfig.read(f), f.toString());
    }
}
