package dev.edgegen.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.data.SyntheticScenes;
import dev.edgegen.pipeline.Architecture;
import dev.edgegen.pipeline.ModelLoader;
import dev.edgegen.pipeline.ModelWriter;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.pipeline.TextEncoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BindingGapTest {
    @Test
    void aModelBlindToTheColourWordsHasNoGapAndAnyModelGetsFiniteOnes(@TempDir Path dir) {
        try (NDManager root = NDManager.newBaseManager()) {
            ModelWriter.writeRandom(Architecture.TINY, 7, dir.resolve("tiny"), root);
            StableDiffusion sd = ModelLoader.load(dir.resolve("tiny"), root);
            List<Integer> progress = new ArrayList<>();
            BindingGap.Result r = BindingGap.measure(sd, SyntheticScenes.Split.HELD_OUT, SyntheticScenes.Rebinding.SWAP, 6, 4, 0, progress::add);
            assertEquals(6, r.scenes());
            assertEquals(List.of(4, 6), progress);
            for (int q = 0; q < r.timesteps().length; q++) {
                assertTrue(Double.isFinite(r.gap()[q]) && r.gap()[q] != 0, "a text-conditioned model's MSE depends on the prompt");
                assertTrue(r.accuracy()[q] >= 0 && r.accuracy()[q] <= 1);
            }
            // a text encoder that gives every prompt the same context: swapped and true prompts denoise alike
            TextEncoder text = sd.textEncoder;
            TextEncoder blind = new TextEncoder() {
                @Override public Tokenized tokenize(String prompt) { return text.tokenize(prompt); }
                @Override public NDArray encode(List<String> prompts, NDManager manager) {
                    return text.encode(prompts.stream().map(p -> "a shape").toList(), manager);
                }
                @Override public int hiddenSize() { return text.hiddenSize(); }
                @Override public long parameterCount() { return text.parameterCount(); }
            };
            StableDiffusion blindSd = new StableDiffusion("blind", blind, sd.unet, sd.vae, sd.scheduler, root.newSubManager());
            BindingGap.Result b = BindingGap.measure(blindSd, SyntheticScenes.Split.VAL, SyntheticScenes.Rebinding.SHAPE_LEAK, 4, 4, 0, n -> {});
            for (int q = 0; q < b.timesteps().length; q++) {
                assertEquals(0.0, b.gap()[q], 1e-6);
                assertEquals(0.0, b.accuracy()[q], "a tie is not a win");
            }
            assertThrows(IllegalArgumentException.class, () -> BindingGap.measure(sd, SyntheticScenes.Split.VAL, SyntheticScenes.Rebinding.SWAP, 0, 4, 0, n -> {}));
        }
    }
}
