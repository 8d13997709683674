package dev.edgegen.nelf.scene;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A minimal reader of NumPy {@code .npy} files: little-endian float64/float32, C order. */
public final class Npy {
    /** The array's shape and values (row-major) as doubles. */
    public record Array(long[] shape, double[] data) {}

    private Npy() {}

    public static Array read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        String name = file.getFileName().toString();
        if (bytes.length < 10 || (bytes[0] & 255) != 0x93 || !new String(bytes, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IllegalArgumentException(name + ": not a .npy file (magic \\x93NUMPY missing)");
        }
        int major = bytes[6];
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            start = 10;
        } else {
            headerLen = bb.getInt(8);
            start = 12;
        }
        if (start + headerLen > bytes.length) throw new IllegalArgumentException(name + ": truncated header");
        String header = new String(bytes, start, headerLen, StandardCharsets.ISO_8859_1);
        String descr = field(header, "descr", name);
        if (field(header, "fortran_order", name).equals("True")) {
            throw new IllegalArgumentException(name + ": fortran_order arrays are not supported; save with C order");
        }
        Matcher sm = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)").matcher(header);
        if (!sm.find()) throw new IllegalArgumentException(name + ": header has no 'shape'");
        String[] parts = sm.group(1).split(",");
        long[] shape = java.util.Arrays.stream(parts).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        long n = 1;
        for (long d : shape) n *= d;
        int width = switch (descr) {
            case "<f8" -> 8;
            case "<f4" -> 4;
            default -> throw new IllegalArgumentException(name + ": dtype " + descr + " not supported (expected <f8 or <f4)");
        };
        int off = start + headerLen;
        if (off + n * width > bytes.length) {
            throw new IllegalArgumentException(name + ": data truncated (shape needs " + n * width + " bytes, file has " + (bytes.length - off) + ")");
        }
        double[] data = new double[Math.toIntExact(n)];
        for (int i = 0; i < n; i++) {
            data[i] = width == 8 ? bb.getDouble(off + 8 * i) : bb.getFloat(off + 4 * i);
        }
        return new Array(shape, data);
    }

    private static String field(String header, String key, String name) {
        Matcher m = Pattern.compile("'" + key + "'\\s*:\\s*'?([^',]*)'?").matcher(header);
        if (!m.find()) throw new IllegalArgumentException(name + ": header has no '" + key + "'");
        return m.group(1).trim();
    }

    /** Writes a 2-D float64 array (used by tests and tools that make LLFF folders). */
    public static void writeF8(Path file, int rows, int cols, double[] data) throws IOException {
        String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + 8 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        bb.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        for (double v : data) bb.putDouble(v);
        Files.write(file, bb.array());
    }
}
