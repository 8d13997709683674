package dev.edgegen.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngTest {
    @TempDir Path dir;

    static int count(byte[] hay, String needle) {
        String s = new String(hay, StandardCharsets.ISO_8859_1);
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }

    @Test
    void writesImageAndTextChunksThatReadBack() throws Exception {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("parameters", "a red cube on a table\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 42");
        text.put("Software", "EdgeGen 0.1");
        text.put("prompt", "猫 and ü — unicode");
        try (NDManager m = NDManager.newBaseManager()) {
            float[] v = new float[3 * 4 * 5];
            for (int i = 0; i < v.length; i++) v[i] = (i * 37 % 101) / 100f;
            NDArray img = m.create(v, new Shape(3, 4, 5));
            Path p = dir.resolve("out.png");
            Png.write(p, img, text);
            assertEquals(List.of(p), Files.list(dir).toList(), "written via temp file + rename, nothing left behind");

            assertEquals(text, Png.readText(p));
            byte[] bytes = Files.readAllBytes(p);
            assertEquals(2, count(bytes, "tEXt"), "Latin-1 values as tEXt");
            assertEquals(1, count(bytes, "iTXt"), "other values as UTF-8 iTXt");

            float[] back = Images.read(p, m).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals(Math.round(v[i] * 255) / 255f, back[i], 1e-6f, "pixel value " + i);
            }
        }
    }

    @Test
    void readsZtxtChunks() throws Exception {
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        byte[] png = Png.encode(img, Map.of());
        // insert a zTXt chunk before IEND (last 12 bytes)
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        z.write("Comment".getBytes(StandardCharsets.ISO_8859_1));
        z.write(0);
        z.write(0);
        ByteArrayOutputStream deflated = new ByteArrayOutputStream();
        try (DeflaterOutputStream d = new DeflaterOutputStream(deflated, new Deflater())) {
            d.write("compressed words".getBytes(StandardCharsets.ISO_8859_1));
        }
        z.write(deflated.toByteArray());
        byte[] data = z.toByteArray();
        ByteBuffer chunk = ByteBuffer.allocate(12 + data.length);
        chunk.putInt(data.length).put("zTXt".getBytes(StandardCharsets.ISO_8859_1)).put(data);
        CRC32 crc = new CRC32();
        crc.update(chunk.array(), 4, 4 + data.length);
        chunk.putInt((int) crc.getValue());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, png.length - 12);
        out.write(chunk.array());
        out.write(png, png.length - 12, 12);
        Path p = dir.resolve("z.png");
        Files.write(p, out.toByteArray());
        assertEquals(Map.of("Comment", "compressed words"), Png.readText(p));
        assertEquals(2, Images.readImage(p).getWidth(), "still a valid PNG");
    }

    @Test
    void clearErrors() throws Exception {
        Path notPng = Files.writeString(dir.resolve("x.png"), "hello");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Png.readText(notPng));
        assertTrue(e.getMessage().contains("not a PNG"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Png.readText(dir.resolve("none.png")));
        assertTrue(e.getMessage().contains("file not found"), e.getMessage());
        BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        e = assertThrows(IllegalArgumentException.class, () -> Png.write(dir.resolve("k.png"), img, Map.of(" bad", "v")));
        assertTrue(e.getMessage().contains("keyword"), e.getMessage());
        byte[] good = Png.encode(img, Map.of("a", "b"));
        Path cut = dir.resolve("cut.png");
        Files.write(cut, java.util.Arrays.copyOf(good, 40));
        e = assertThrows(IllegalArgumentException.class, () -> Png.readText(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
}
