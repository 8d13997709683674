package dev.edgegen.io;

import ai.djl.ndarray.types.DataType;

/** The safetensors element types EdgeGen reads; float types load as float32, integer types as they are. */
public enum Dtype {
    F32(4, DataType.FLOAT32),
    F16(2, DataType.FLOAT16),
    BF16(2, DataType.BFLOAT16),
    I32(4, DataType.INT32),
    I64(8, DataType.INT64);

    private final int bytes;
    private final DataType djl;

    Dtype(int bytes, DataType djl) {
        this.bytes = bytes;
        this.djl = djl;
    }

    public int bytes() { return bytes; }

    public DataType djl() { return djl; }

    public boolean isFloat() { return this == F32 || this == F16 || this == BF16; }

    /** The safetensors dtype for a DJL data type, or null if EdgeGen does not store it. */
    static Dtype of(DataType t) {
        for (Dtype d : values()) {
            if (d.djl == t) return d;
        }
        return null;
    }

    /** Parses a header's dtype string; null when unknown. */
    static Dtype parse(String s) {
        for (Dtype d : values()) {
            if (d.name().equals(s)) return d;
        }
        return null;
    }
}
