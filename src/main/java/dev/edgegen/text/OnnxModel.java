package dev.edgegen.text;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model file this project needs: the graph's nodes (op type, inputs,
 * outputs, name) and its float32 initializers. A minimal protobuf wire-format reader for
 * ModelProto → GraphProto → NodeProto / TensorProto (field numbers from onnx.proto).
 */
public final class OnnxModel {
    /** One graph node. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs) {}

    /** A float32 initializer: dims and row-major values. */
    public record Tensor(String name, long[] dims, float[] data) {}

    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();

    private OnnxModel() {}

    public List<Node> nodes() { return nodes; }

    public Map<String, Tensor> initializers() { return initializers; }

    public static OnnxModel parse(byte[] bytes) throws IOException {
        OnnxModel m = new OnnxModel();
        Reader model = new Reader(ByteBuffer.wrap(bytes));
        boolean sawGraph = false;
        while (model.more()) {
            int tag = model.tag();
            if (tag >>> 3 == 7 && (tag & 7) == 2) {
                m.readGraph(model.sub());
                sawGraph = true;
            } else {
                model.skip(tag);
            }
        }
        if (!sawGraph) throw new IOException("not an ONNX model: no graph found");
        return m;
    }

    private void readGraph(Reader g) throws IOException {
        while (g.more()) {
            int tag = g.tag();
            int field = tag >>> 3;
            if (field == 1 && (tag & 7) == 2) {
                nodes.add(readNode(g.sub()));
            } else if (field == 5 && (tag & 7) == 2) {
                Tensor t = readTensor(g.sub());
                if (t != null) initializers.put(t.name(), t);
            } else {
                g.skip(tag);
            }
        }
    }

    private static Node readNode(Reader r) throws IOException {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String name = "", op = "";
        while (r.more()) {
            int tag = r.tag();
            switch (tag >>> 3) {
                case 1 -> in.add(r.string());
                case 2 -> out.add(r.string());
                case 3 -> name = r.string();
                case 4 -> op = r.string();
                default -> r.skip(tag);
            }
        }
        return new Node(name, op, in, out);
    }

    /** Float32 tensors only (data_type 1); other initializers (int64 shapes etc.) are returned as null. */
    private static Tensor readTensor(Reader r) throws IOException {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        ByteBuffer raw = null;
        List<Float> floats = new ArrayList<>();
        while (r.more()) {
            int tag = r.tag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == 0) {
                dims.add(r.varint());
            } else if (field == 1 && wire == 2) {
                Reader p = r.sub();
                while (p.more()) dims.add(p.varint());
            } else if (field == 2 && wire == 0) {
                dataType = (int) r.varint();
            } else if (field == 4 && wire == 2) {
                ByteBuffer b = r.bytes().order(ByteOrder.LITTLE_ENDIAN);
                while (b.remaining() >= 4) floats.add(b.getFloat());
            } else if (field == 4 && wire == 5) {
                floats.add(Float.intBitsToFloat(r.fixed32()));
            } else if (field == 8 && wire == 2) {
                name = r.string();
            } else if (field == 9 && wire == 2) {
                raw = r.bytes();
            } else if (field == 14 && wire == 0 && r.varint() == 1) {
                throw new IOException("initializer " + name + " uses external data, which is not supported");
            } else {
                r.skip(tag);
            }
        }
        if (dataType != 1) return null;
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        for (long x : d) n *= x;
        float[] data = new float[Math.toIntExact(n)];
        if (raw != null) {
            if (raw.remaining() != 4 * n) throw new IOException("initializer " + name + " has " + raw.remaining() + " bytes for " + n + " floats");
            raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
        } else {
            if (floats.size() != n) throw new IOException("initializer " + name + " has " + floats.size() + " values for " + n);
            for (int i = 0; i < n; i++) data[i] = floats.get(i);
        }
        return new Tensor(name, d, data);
    }

    /** Protobuf wire-format reader over a buffer slice. */
    private static final class Reader {
        private final ByteBuffer b;

        Reader(ByteBuffer b) { this.b = b; }

        boolean more() { return b.hasRemaining(); }

        int tag() throws IOException { return (int) varint(); }

        long varint() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (!b.hasRemaining()) throw new IOException("truncated ONNX file (varint)");
                byte x = b.get();
                v |= (long) (x & 0x7F) << shift;
                if (x >= 0) return v;
            }
            throw new IOException("malformed varint in ONNX file");
        }

        int fixed32() { return b.order(ByteOrder.LITTLE_ENDIAN).getInt(); }

        ByteBuffer bytes() throws IOException {
            long len = varint();
            if (len < 0 || len > b.remaining()) throw new IOException("truncated ONNX file (field of " + len + " bytes)");
            ByteBuffer s = b.slice().limit((int) len);
            b.position(b.position() + (int) len);
            return s;
        }

        Reader sub() throws IOException { return new Reader(bytes()); }

        String string() throws IOException {
            ByteBuffer s = bytes();
            byte[] a = new byte[s.remaining()];
            s.get(a);
            return new String(a, StandardCharsets.UTF_8);
        }

        void skip(int tag) throws IOException {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> b.position(b.position() + 8);
                case 2 -> bytes();
                case 5 -> b.position(b.position() + 4);
                default -> throw new IOException("unsupported protobuf wire type " + (tag & 7) + " in ONNX file");
            }
        }
    }
}
