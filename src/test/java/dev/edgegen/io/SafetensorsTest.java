package dev.edgegen.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    static NDManager manager;
    @TempDir Path dir;

    @BeforeAll
    static void setUp() { manager = NDManager.newBaseManager(); }

    @AfterAll
    static void tearDown() { manager.close(); }

    /** A file made by hand: 8-byte length, the header text (unpadded), then {@code data}. */
    static Path rawFile(Path p, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(p, b.array());
        return p;
    }

    static byte[] shorts(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putShort((short) x);
        return b.array();
    }

    static String msg(Path p) {
        return assertThrows(WeightsException.class, () -> SafetensorsFile.open(p).close()).getMessage();
    }

    @Test
    void roundTripF32WithMetadataAndSortedAlignedHeader() throws IOException {
        Map<String, NDArray> in = new LinkedHashMap<>();
        in.put("z.weight", manager.create(new float[] {1.5f, -2.25f, 3e-8f, 1e30f, 0f, -0f}, new Shape(2, 3)));
        in.put("a.bias", manager.create(new float[] {7f}, new Shape(1)));
        in.put("m.steps", manager.create(new long[] {1L << 40, -3}, new Shape(2)));
        in.put("m.ids", manager.create(new int[] {5, -6, 7}, new Shape(3)));
        in.put("scalar", manager.create(2.5f));
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, in, Map.of("format", "pt", "note", "ünïcode"));

        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header padded to 8 bytes");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.indexOf("\"a.bias\"") < header.indexOf("\"m.ids\"") && header.indexOf("\"m.ids\"") < header.indexOf("\"z.weight\""));

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a.bias", "m.ids", "m.steps", "scalar", "z.weight"), f.keys());
            assertEquals(Map.of("format", "pt", "note", "ünïcode"), f.metadata());
            assertEquals(Dtype.F32, f.info("z.weight").dtype());
            assertEquals(new Shape(2, 3), f.info("z.weight").shape());
            assertEquals(Dtype.I64, f.info("m.steps").dtype());
            Map<String, NDArray> out = f.loadAll(manager);
            assertArrayEquals(in.get("z.weight").toFloatArray(), out.get("z.weight").toFloatArray());
            assertEquals(new Shape(2, 3), out.get("z.weight").getShape());
            assertArrayEquals(new long[] {1L << 40, -3}, out.get("m.steps").toLongArray());
            assertArrayEquals(new int[] {5, -6, 7}, out.get("m.ids").toIntArray());
            assertEquals(new Shape(), out.get("scalar").getShape());
            assertEquals(2.5f, out.get("scalar").getFloat());
            // loaded arrays own their memory: writing into one must work
            out.get("a.bias").muli(2);
            assertEquals(14f, out.get("a.bias").getFloat(0));
        }
        assertEquals(1, Files.list(dir).count(), "no temp file left behind");
    }

    @Test
    void roundTripF16() {
        float[] v = {0.5f, -1.25f, 0.1f, 1000f, -65504f, 6.1e-5f};
        Path p = dir.resolve("half.safetensors");
        Safetensors.write(p, Map.of("w", manager.create(v, new Shape(3, 2))), Map.of(), true);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Dtype.F16, f.info("w").dtype());
            assertEquals(12, f.info("w").byteSize());
            NDArray w = f.load("w", manager);
            assertEquals(DataType.FLOAT32, w.getDataType());
            float[] got = w.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals(v[i], got[i], Math.abs(v[i]) * 1e-3f, "element " + i);
            }
        }
        NDArray big = manager.create(new float[] {70000f});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(dir.resolve("big.safetensors"), Map.of("big", big), Map.of(), true));
        assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("float16"), e.getMessage());
    }

    @Test
    void decodesF16BitPatterns() throws IOException {
        int[] bits = {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x0400, 0x03FF, 0x7C00, 0xFC00, 0x8000, 0x7E00};
        float[] want = {1f, -2f, 0.333251953125f, 65504f, (float) Math.pow(2, -24), (float) Math.pow(2, -14),
            (float) (1023 * Math.pow(2, -24)), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, Float.NaN};
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[0,22]}}";
        try (SafetensorsFile f = SafetensorsFile.open(rawFile(dir.resolve("f16.safetensors"), header, shorts(bits)))) {
            assertArrayEquals(want, f.load("h", manager).toFloatArray());
        }
    }

    @Test
    void decodesBf16BitPatterns() throws IOException {
        int[] bits = {0x3F80, 0xC040, 0x3EAB, 0x4049, 0x0001, 0x7F80, 0xFF80, 0x8000, 0x7FC0};
        float[] want = {1f, -3f, 0.333984375f, 3.140625f, Float.intBitsToFloat(0x00010000), Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, -0f, Float.NaN};
        String header = "{\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"BF16\",\"shape\":[3,3],\"data_offsets\":[0,18]}}";
        try (SafetensorsFile f = SafetensorsFile.open(rawFile(dir.resolve("bf16.safetensors"), header, shorts(bits)))) {
            NDArray b = f.load("b", manager);
            assertEquals(new Shape(3, 3), b.getShape());
            assertArrayEquals(want, b.toFloatArray());
            assertEquals(Map.of("k", "v"), f.metadata());
        }
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, Map.of("a", manager.ones(new Shape(4)), "x", manager.ones(new Shape(10))), Map.of());
        long size = Files.size(p);
        try (RandomAccessFile r = new RandomAccessFile(p.toFile(), "rw")) {
            r.setLength(size - 4);
        }
        String m = msg(p);
        assertTrue(m.startsWith("model.safetensors: truncated: tensor 'x' ends at byte " + size + " but file has " + (size - 4) + " bytes"), m);
    }

    @Test
    void overlappingOffsets() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        String m = msg(rawFile(dir.resolve("o.safetensors"), h, new byte[12]));
        assertTrue(m.contains("overlapping") && m.contains("'a'") && m.contains("'b'"), m);
    }

    @Test
    void offsetsPastEnd() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[100,108]}}";
        String m = msg(rawFile(dir.resolve("e.safetensors"), h, new byte[8]));
        assertTrue(m.contains("truncated: tensor 'a' ends at byte"), m);
    }

    @Test
    void sizeNotMatchingShape() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        String m = msg(rawFile(dir.resolve("s.safetensors"), h, new byte[8]));
        assertTrue(m.contains("'a'") && m.contains("needs 6"), m);
    }

    @Test
    void unknownDtypeIsNamed() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}";
        String m = msg(rawFile(dir.resolve("d.safetensors"), h, new byte[2]));
        assertTrue(m.contains("F8_E4M3") && m.contains("'a'"), m);
    }

    @Test
    void badJson() throws IOException {
        String m = msg(rawFile(dir.resolve("j.safetensors"), "{\"a\":{\"dtype\":", new byte[0]));
        assertTrue(m.startsWith("j.safetensors: bad JSON header"), m);
        m = msg(rawFile(dir.resolve("k.safetensors"), "[1, 2]", new byte[0]));
        assertTrue(m.contains("bad JSON header"), m);
        String dup = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        m = msg(rawFile(dir.resolve("dup.safetensors"), dup, new byte[8]));
        assertTrue(m.contains("bad JSON header") && m.contains("'a'"), m);
    }

    @Test
    void wrongHeaderLength() throws IOException {
        Path p = dir.resolve("h.safetensors");
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        Files.write(p, b.array());
        assertTrue(msg(p).contains("truncated: header of 1000 bytes"), msg(p));
        b.putLong(0, -5);
        Files.write(p, b.array());
        assertTrue(msg(p).contains("wrong header length"), msg(p));
        Files.write(p, new byte[3]);
        assertTrue(msg(p).contains("not a safetensors file"), msg(p));
        assertTrue(msg(dir.resolve("missing.safetensors")).contains("file not found"));
    }

    @Test
    void unknownTensorName() throws IOException {
        Path p = dir.resolve("u.safetensors");
        Safetensors.write(p, Map.of("a", manager.ones(new Shape(1))), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            WeightsException e = assertThrows(WeightsException.class, () -> f.load("b", manager));
            assertTrue(e.getMessage().contains("no tensor named 'b'"), e.getMessage());
        }
    }

    /** A sparse 2.4 GB file whose second tensor lies beyond 2 GiB: reading must not map the whole file. */
    @Test
    void readsTensorBeyondTwoGiB() throws IOException {
        long padBytes = 2_415_919_104L; // 603979776 floats
        String h = "{\"pad\":{\"dtype\":\"F32\",\"shape\":[603979776],\"data_offsets\":[0," + padBytes + "]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + padBytes + "," + (padBytes + 8) + "]}}";
        Path p = rawFile(dir.resolve("huge.safetensors"), h, new byte[0]);
        long dataStart = Files.size(p);
        try (RandomAccessFile r = new RandomAccessFile(p.toFile(), "rw")) {
            r.setLength(dataStart + padBytes + 8);
            ByteBuffer x = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(4.5f).putFloat(-1f);
            r.seek(dataStart + padBytes);
            r.write(x.array());
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {4.5f, -1f}, f.load("x", manager).toFloatArray());
            WeightsException e = assertThrows(WeightsException.class, () -> f.load("pad", manager));
            assertTrue(e.getMessage().contains("over 2 GiB"), e.getMessage());
        }
    }
}
