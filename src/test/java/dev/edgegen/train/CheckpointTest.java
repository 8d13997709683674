package dev.edgegen.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Checkpoint sample(NDManager m, long step, float fill) throws IOException {
        NDArray w = m.full(new Shape(3, 2), fill);
        return new Checkpoint(step, 17 * step, 42, step, JSON.readTree("{\"a\":{\"b\":[1,2]},\"lr\":0.001}"),
                Map.of("w", w), Map.of("w", w.mul(0.5f)), Map.of("m.w", w.mul(2f), "v.w", w.mul(3f)));
    }

    @Test
    void roundTripsAndIsReadableAsSafetensors(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Path f = dir.resolve("checkpoint.safetensors");
            sample(m, 5, 1.5f).save(f);
            Checkpoint c = Checkpoint.load(f, m);
            assertEquals(5, c.step());
            assertEquals(85, c.dataPosition());
            assertEquals(42, c.seed());
            assertEquals(JSON.readTree("{\"a\":{\"b\":[1,2]},\"lr\":0.001}"), c.config());
            assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}, c.model().get("w").toFloatArray());
            assertArrayEquals(new float[] {4.5f, 4.5f, 4.5f, 4.5f, 4.5f, 4.5f}, c.optimizer().get("v.w").toFloatArray());
            // safetensors layout: u64 header length, JSON header, data
            byte[] bytes = Files.readAllBytes(f);
            long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            var header = JSON.readTree(new String(bytes, 8, (int) n));
            assertEquals("F32", header.get("model.w").get("dtype").asText());
            assertEquals(8 + n + 4 * 6 * 4, bytes.length);
        }
    }

    @Test
    void interruptedWriteLeavesThePreviousCheckpointLoadable(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Path f = dir.resolve("checkpoint.safetensors");
            sample(m, 5, 1.5f).save(f);
            // A kill during the next save leaves a partial temp file beside the good one.
            byte[] partial = Arrays.copyOf(Files.readAllBytes(f), 40);
            Files.write(dir.resolve("checkpoint.safetensors.tmp"), partial);
            assertEquals(5, Checkpoint.load(f, m).step());
            // The next save replaces both cleanly.
            sample(m, 6, 2f).save(f);
            assertEquals(6, Checkpoint.load(f, m).step());
            assertTrue(Files.notExists(dir.resolve("checkpoint.safetensors.tmp")));
        }
    }

    @Test
    void failedWriteKeepsThePreviousFile(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Path f = dir.resolve("checkpoint.safetensors");
            sample(m, 5, 1.5f).save(f);
            // Simulate a write failure (like a full disk): the temp path is a non-empty directory.
            Files.createDirectories(dir.resolve("checkpoint.safetensors.tmp").resolve("x"));
            IOException e = assertThrows(IOException.class, () -> sample(m, 6, 2f).save(f));
            assertTrue(e.getMessage().contains("is untouched"), e.getMessage());
            assertEquals(5, Checkpoint.load(f, m).step());
        }
    }

    @Test
    void damagedFilesAreRefusedWithAClearMessage(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Path f = dir.resolve("checkpoint.safetensors");
            sample(m, 5, 1.5f).save(f);
            byte[] bytes = Files.readAllBytes(f);
            Path truncated = dir.resolve("truncated.safetensors");
            Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 10));
            IOException e1 = assertThrows(IOException.class, () -> Checkpoint.load(truncated, m));
            assertTrue(e1.getMessage().contains("damaged"), e1.getMessage());
            Path flipped = dir.resolve("flipped.safetensors");
            bytes[bytes.length - 3] ^= 0x55;
            Files.write(flipped, bytes);
            IOException e2 = assertThrows(IOException.class, () -> Checkpoint.load(flipped, m));
            assertTrue(e2.getMessage().contains("checksum"), e2.getMessage());
            Path garbage = dir.resolve("garbage.safetensors");
            Files.writeString(garbage, "hello");
            assertThrows(IOException.class, () -> Checkpoint.load(garbage, m));
        }
    }

    @Test
    void differencesNameEachChangedField() throws IOException {
        var a = JSON.readTree("{\"trainer\":{\"lr\":0.001,\"logEvery\":10},\"task\":{\"ch\":[32,64],\"name\":\"x\"}}");
        var b = JSON.readTree("{\"trainer\":{\"lr\":1e-3,\"logEvery\":5},\"task\":{\"ch\":[32,128],\"extra\":true,\"name\":\"x\"}}");
        List<String> d = Checkpoint.differences(a, b, Set.of("trainer.logEvery"));
        assertEquals(List.of("task.ch[1]: 64 in the checkpoint, 128 now", "task.extra: absent in the checkpoint, true now"), d);
    }
}
