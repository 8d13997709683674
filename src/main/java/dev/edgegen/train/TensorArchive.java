package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A float32 tensor file in the safetensors layout (8-byte little-endian header length, JSON
 * header with dtype/shape/data_offsets per tensor and a string {@code __metadata__} map, then the
 * raw data), so any safetensors reader can open a checkpoint. Adds a CRC-32 of the data section
 * to the metadata ({@code crc32}) so a damaged file is refused instead of loaded.
 *
 * <p>Writes are atomic: data goes to {@code NAME.tmp}, is fsynced, then renamed over
 * {@code NAME}; the directory is fsynced after the rename. A crash or a full disk at any moment
 * leaves either the old file or the new one, never a torn one.
 */
public final class TensorArchive {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private TensorArchive() {}

    /** What a file holds: tensors by name (attached to the manager given to {@link #read}) and metadata. */
    public record Contents(Map<String, NDArray> tensors, Map<String, String> metadata) {}

    /** Writes {@code tensors} (any dtype is converted to float32) and {@code metadata} atomically to {@code file}. */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        Map<String, byte[]> blobs = new LinkedHashMap<>();
        CRC32 crc = new CRC32();
        for (var e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                throw new IllegalArgumentException("tensor name __metadata__ is reserved");
            }
            NDArray t = e.getValue();
            byte[] bytes = floatBytes(t);
            crc.update(bytes);
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", "F32");
            var shape = info.putArray("shape");
            for (long d : t.getShape().getShape()) shape.add(d);
            info.putArray("data_offsets").add(offset).add(offset + bytes.length);
            offset += bytes.length;
            blobs.put(e.getKey(), bytes);
        }
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        meta.put("crc32", Long.toString(crc.getValue()));
        byte[] headerBytes = JSON.writeValueAsBytes(header);
        int pad = (8 - headerBytes.length % 8) % 8;
        byte[] padded = new byte[headerBytes.length + pad];
        System.arraycopy(headerBytes, 0, padded, 0, headerBytes.length);
        for (int i = headerBytes.length; i < padded.length; i++) padded[i] = ' ';

        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(padded));
            for (byte[] b : blobs.values()) writeFully(ch, ByteBuffer.wrap(b));
            ch.force(true);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new IOException("could not write " + tmp + " (" + e.getMessage() + "); the previous "
                    + file.getFileName() + " is untouched", e);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("the file system of " + dir + " cannot rename atomically; write checkpoints to a local disk", e);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot open a directory for fsync; the rename itself is still atomic.
        }
    }

    /** Reads every tensor of {@code file} into {@code manager}; refuses a truncated or damaged file with a clear message. */
    public static Contents read(Path file, NDManager manager) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no such file: " + file);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw corrupt(file, "shorter than 8 bytes");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLen = len.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw corrupt(file, "header length " + headerLen + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonNode header;
            try {
                header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw corrupt(file, "header is not valid JSON");
            }
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, String> meta = new LinkedHashMap<>();
            JsonNode m = header.get("__metadata__");
            if (m != null) m.fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue().asText()));
            if (dataLen > Integer.MAX_VALUE - 8) {
                throw new IOException(file + " holds " + dataLen + " bytes of tensors; checkpoints over 2 GB are not supported");
            }
            ByteBuffer data = ByteBuffer.allocate((int) dataLen);
            readFully(ch, data, dataStart);
            data.flip();
            if (meta.containsKey("crc32")) {
                CRC32 crc = new CRC32();
                crc.update(data.duplicate());
                if (!Long.toString(crc.getValue()).equals(meta.get("crc32"))) {
                    throw corrupt(file, "data checksum mismatch");
                }
            }
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().equals("__metadata__")) continue;
                JsonNode info = e.getValue();
                if (!"F32".equals(info.path("dtype").asText())) {
                    throw corrupt(file, "tensor " + e.getKey() + " has dtype " + info.path("dtype").asText() + "; only F32 is supported here");
                }
                long[] shape = new long[info.path("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = info.path("shape").get(i).asLong();
                long begin = info.path("data_offsets").path(0).asLong(-1);
                long end = info.path("data_offsets").path(1).asLong(-1);
                long expected = 4 * new Shape(shape).size();
                if (begin < 0 || end > dataLen || end - begin != expected) {
                    throw corrupt(file, "tensor " + e.getKey() + " has offsets [" + begin + ", " + end
                            + ") that do not match its shape or the file size");
                }
                ByteBuffer slice = data.duplicate().position((int) begin).limit((int) end).slice().order(ByteOrder.LITTLE_ENDIAN);
                tensors.put(e.getKey(), manager.create(slice.asFloatBuffer(), new Shape(shape)));
            }
            return new Contents(tensors, meta);
        }
    }

    private static byte[] floatBytes(NDArray t) {
        NDArray f = t.getDataType() == DataType.FLOAT32 ? t : t.toType(DataType.FLOAT32, false);
        float[] v = f.toFloatArray();
        if (f != t) f.close();
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    private static IOException corrupt(Path file, String why) {
        return new IOException(file + " is damaged or not a checkpoint (" + why + "); use an earlier checkpoint or start without --resume");
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }
}
