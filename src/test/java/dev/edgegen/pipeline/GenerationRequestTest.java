package dev.edgegen.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GenerationRequestTest {
    static GenerationRequest req(int steps, float cfg, int w, int h, int batch) {
        return new GenerationRequest("a cat", null, steps, cfg, null, 1, w, h, batch, null, 0.75f, null, null, null);
    }

    @Test
    void acceptsOrdinaryRequestAndFillsDefaults() {
        GenerationRequest r = req(20, 7.5f, 512, 512, 1);
        assertEquals("", r.negativePrompt());
        assertEquals("ddim", r.sampler());
        assertTrue(r.guided());
        assertFalse(req(20, 1f, 512, 512, 1).guided());
    }

    @Test
    void rejectsSizesThatAreNotMultiplesOf8WithASuggestion() {
        var e = assertThrows(IllegalArgumentException.class, () -> req(20, 7.5f, 500, 512, 1));
        assertTrue(e.getMessage().contains("multiple of 8"), e.getMessage());
        assertTrue(e.getMessage().contains("try 504"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> req(20, 7.5f, 512, 4096, 1));
        assertThrows(IllegalArgumentException.class, () -> req(20, 7.5f, 0, 512, 1));
    }

    @Test
    void rejectsBadStepsScaleAndBatch() {
        assertThrows(IllegalArgumentException.class, () -> req(0, 7.5f, 64, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> req(-3, 7.5f, 64, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> req(10, Float.NaN, 64, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> req(10, 7f, 64, 64, 0));
        assertThrows(IllegalArgumentException.class, () -> new GenerationRequest("x", "", 10, 7f, "ddim", 1,
                64, 64, 1, java.nio.file.Path.of("a.png"), 1.5f, null, null, null));
        for (float phi : new float[] {-0.1f, 1.5f, Float.NaN}) {
            assertThrows(IllegalArgumentException.class, () -> new GenerationRequest("x", "", 10, 7f, "ddim", 1,
                    64, 64, 1, null, 0.75f, null, null, null, phi));
        }
    }
}
