package dev.edgegen.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading: the header is parsed and validated on open, tensors are
 * read on demand through a memory map of just their own bytes, so files larger than 2 GiB work.
 *
 * <p>Layout: 8-byte little-endian header length N, N bytes of JSON header
 * ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the data region; offsets are relative to the start of the data region.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted (the reference implementation's limit). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    /** One tensor's header entry; {@code begin}/{@code end} are byte offsets within the data region. */
    public record TensorInfo(String name, Dtype dtype, Shape shape, long begin, long end) {
        public long byteSize() { return end - begin; }
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code path}; throws {@link WeightsException} naming the file and the problem. */
    public static SafetensorsFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new WeightsException(path + ": file not found");
        } catch (IOException e) {
            throw new WeightsException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException | IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the parse error is what the caller needs
            }
            if (e instanceof WeightsException we) throw we;
            throw new WeightsException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
        String file = path.getFileName().toString();
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw new WeightsException(file + ": not a safetensors file: " + fileSize + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 2 || n > MAX_HEADER_BYTES) {
            throw new WeightsException(file + ": wrong header length " + Long.toUnsignedString(n)
                    + " (must be 2.." + MAX_HEADER_BYTES + " bytes): not a safetensors file or corrupted");
        }
        if (8 + n > fileSize) {
            throw new WeightsException(file + ": truncated: header of " + n + " bytes ends at byte " + (8 + n)
                    + " but file has " + fileSize + " bytes");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(ch, headerBuf, 8);
        JsonNode root;
        try {
            root = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY).readTree(headerBuf.array());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new WeightsException(file + ": bad JSON header: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new WeightsException(file + ": bad JSON header: expected an object of tensors");
        }
        long dataSize = fileSize - 8 - n;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                readMetadata(file, e.getValue(), metadata);
            } else {
                TensorInfo t = readTensor(file, e.getKey(), e.getValue());
                if (t.end > dataSize) {
                    throw new WeightsException(file + ": truncated: tensor '" + t.name + "' ends at byte " + (8 + n + t.end)
                            + " but file has " + fileSize + " bytes");
                }
                tensors.put(t.name, t);
            }
        }
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo a = byOffset.get(i - 1);
            TensorInfo b = byOffset.get(i);
            if (b.begin < a.end) {
                throw new WeightsException(file + ": overlapping tensors: '" + a.name + "' [" + a.begin + ", " + a.end
                        + ") and '" + b.name + "' [" + b.begin + ", " + b.end + ")");
            }
        }
        return new SafetensorsFile(path, ch, 8 + n, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(String file, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new WeightsException(file + ": bad header: __metadata__ must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new WeightsException(file + ": bad header: __metadata__ value for '" + m.getKey() + "' is not a string");
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static TensorInfo readTensor(String file, String name, JsonNode node) {
        String where = file + ": tensor '" + name + "': ";
        if (!node.isObject()) throw new WeightsException(where + "header entry is not an object");
        JsonNode dt = node.get("dtype");
        JsonNode sh = node.get("shape");
        JsonNode off = node.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw new WeightsException(where + "missing dtype");
        Dtype dtype = Dtype.parse(dt.textValue());
        if (dtype == null) {
            throw new WeightsException(where + "unsupported dtype " + dt.textValue() + " (supported: F32, F16, BF16, I32, I64)");
        }
        if (sh == null || !sh.isArray()) throw new WeightsException(where + "missing shape");
        long[] dims = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.longValue() < 0) {
                throw new WeightsException(where + "bad shape " + sh);
            }
            dims[i] = d.longValue();
            numel = Math.multiplyExact(numel, dims[i]);
        }
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
            throw new WeightsException(where + "data_offsets must be [begin, end]");
        }
        long begin = off.get(0).longValue();
        long end = off.get(1).longValue();
        if (begin < 0 || end < begin) {
            throw new WeightsException(where + "bad data_offsets [" + begin + ", " + end + "]");
        }
        long expected = Math.multiplyExact(numel, dtype.bytes());
        if (end - begin != expected) {
            throw new WeightsException(where + "data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but shape " + sh + " of " + dtype + " needs " + expected);
        }
        return new TensorInfo(name, dtype, new Shape(dims), begin, end);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }

    public Path path() { return path; }

    /** Tensor names in header order. */
    public List<String> keys() { return List.copyOf(tensors.keySet()); }

    public boolean contains(String name) { return tensors.containsKey(name); }

    /** The header entry of {@code name}; throws if absent. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new WeightsException(path.getFileName() + ": no tensor named '" + name + "' (" + tensors.size() + " tensors in file)");
        }
        return t;
    }

    /** The {@code __metadata__} strings (empty if the file has none). */
    public Map<String, String> metadata() { return metadata; }

    /** Reads one tensor into {@code manager}: float dtypes as float32, integer dtypes as they are. */
    public NDArray load(String name, NDManager manager) {
        TensorInfo t = info(name);
        if (t.byteSize() > Integer.MAX_VALUE - 8) {
            throw new WeightsException(path.getFileName() + ": tensor '" + name + "' has " + t.byteSize()
                    + " bytes; tensors over 2 GiB cannot be loaded as one array");
        }
        if (t.shape.size() == 0) {
            return manager.zeros(t.shape, t.dtype.isFloat() ? DataType.FLOAT32 : t.dtype.djl());
        }
        ByteBuffer copy = ByteBuffer.allocateDirect((int) t.byteSize()).order(ByteOrder.nativeOrder());
        try {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin, t.byteSize());
            copy.put(mapped).flip();
            unmap(mapped);
        } catch (IOException e) {
            throw new WeightsException(path.getFileName() + ": cannot read tensor '" + name + "': " + e.getMessage(), e);
        }
        // The buffer is little-endian file bytes; x86/ARM native order is the same.
        return switch (t.dtype) {
            case F32, I32, I64 -> manager.create(copy, t.shape, t.dtype.djl());
            case F16 -> {
                NDArray half = manager.create(copy, t.shape, DataType.FLOAT16);
                NDArray f = half.toType(DataType.FLOAT32, false);
                half.close();
                yield f;
            }
            case BF16 -> manager.create(bf16ToF32(copy), t.shape);
        };
    }

    /**
     * Releases a mapping now instead of at some later GC: mapped pages count towards the process's
     * resident memory, and a 4 GB checkpoint would otherwise be resident twice while loading.
     */
    private static void unmap(MappedByteBuffer mapped) {
        if (UNSAFE != null) {
            try {
                UNSAFE.getClass().getMethod("invokeCleaner", ByteBuffer.class).invoke(UNSAFE, mapped);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // Not fatal: the mapping is released when the buffer is collected.
            }
        }
    }

    private static final Object UNSAFE = findUnsafe();

    private static Object findUnsafe() {
        try {
            java.lang.reflect.Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return f.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** bfloat16 is the upper half of a float32: widen by shifting the bits. */
    private static float[] bf16ToF32(ByteBuffer b) {
        java.nio.ShortBuffer s = b.order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        float[] out = new float[s.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat((s.get(i) & 0xFFFF) << 16);
        }
        return out;
    }

    /** Reads every tensor, in header order. */
    public Map<String, NDArray> loadAll(NDManager manager) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String k : tensors.keySet()) {
            out.put(k, load(k, manager));
        }
        return out;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new WeightsException(path + ": cannot close: " + e.getMessage(), e);
        }
    }
}
