package dev.edgegen.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/** Writing safetensors files; reading is {@link SafetensorsFile#open}. */
public final class Safetensors {
    private static final float F16_MAX = 65504f;

    private Safetensors() {}

    /** Writes float tensors as F32 (integer tensors as I32/I64), keys sorted, atomically. */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata) {
        write(path, tensors, metadata, false);
    }

    /**
     * Writes {@code tensors} to {@code path} (temp file + rename). With {@code f16} float tensors are
     * stored as F16; a value beyond the F16 range is an error rather than a silent infinity.
     * The header is padded with spaces to a multiple of 8 bytes so the data region is aligned.
     */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata, boolean f16) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors writing needs a little-endian machine");
        }
        Map<String, NDArray> sorted = new TreeMap<>(tensors);
        Map<String, Dtype> dtypes = new TreeMap<>();
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (var e : sorted.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
            NDArray a = e.getValue();
            Dtype src = Dtype.of(a.getDataType());
            if (src == null) {
                throw new IllegalArgumentException(path.getFileName() + ": tensor '" + name + "' has data type " + a.getDataType()
                        + "; only float32/float16/bfloat16/int32/int64 can be written");
            }
            Dtype dt = src.isFloat() ? (f16 ? Dtype.F16 : Dtype.F32) : src;
            if (dt == Dtype.F16 && a.size() > 0) {
                float max;
                try (NDArray abs = a.abs(); NDArray mx = abs.max(); NDArray f = mx.toType(DataType.FLOAT32, true)) {
                    max = f.getFloat();
                }
                if (max > F16_MAX) {
                    throw new IllegalArgumentException(path.getFileName() + ": tensor '" + name + "' has |value| " + max
                            + " beyond the float16 range (65504); write it as F32");
                }
            }
            dtypes.put(name, dt);
            long bytes = a.size() * dt.bytes();
            ObjectNode t = header.putObject(name);
            t.put("dtype", dt.name());
            var shape = t.putArray("shape");
            for (long d : a.getShape().getShape()) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] h;
        try {
            h = json.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new WeightsException(path.getFileName() + ": cannot encode header: " + e.getMessage(), e);
        }
        int padded = (h.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(h, padded);
        Arrays.fill(headerBytes, h.length, padded, (byte) ' ');
        try {
            AtomicFiles.write(path, ch -> {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(headerBytes));
                for (var e : sorted.entrySet()) {
                    NDArray a = e.getValue();
                    if (a.size() == 0) continue;
                    DataType want = dtypes.get(e.getKey()).djl();
                    if (a.getDataType() == want) {
                        writeFully(ch, a.toByteBuffer());
                    } else {
                        try (NDArray c = a.toType(want, false)) {
                            writeFully(ch, c.toByteBuffer());
                        }
                    }
                }
            });
        } catch (IOException e) {
            throw new WeightsException(path + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

}
