package dev.edgegen.tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a minimal TorchScript archive (the zip that {@code torch.jit.save} produces) for a module
 * that has no parameters, only TorchScript source. Layout read by libtorch's
 * {@code torch::jit::load}: {@code <name>/version}, {@code <name>/constants.pkl} (pickled empty
 * tuple), {@code <name>/data.pkl} (pickled module object: class global + attribute dict) and
 * {@code <name>/code/__torch__.py} (the class source, compiled by libtorch at load time).
 */
record TorchScriptArchive(String className, String source) {
    private static final String ARCHIVE = "archive";
    /** TorchScript file-format version; 3 needs no operator upgraders. */
    private static final String FORMAT_VERSION = "3\n";

    byte[] toBytes() {
        Map<String, byte[]> records = new LinkedHashMap<>();
        records.put("data.pkl", modulePickle());
        records.put("code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
        records.put("constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
        records.put("version", FORMAT_VERSION.getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> r : records.entrySet()) {
                byte[] data = r.getValue();
                ZipEntry e = new ZipEntry(ARCHIVE + "/" + r.getKey());
                CRC32 crc = new CRC32();
                crc.update(data);
                e.setMethod(ZipEntry.STORED);
                e.setSize(data.length);
                e.setCompressedSize(data.length);
                e.setCrc(crc.getValue());
                zip.putNextEntry(e);
                zip.write(data);
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Pickle (protocol 2) of {@code __torch__.<className>} with state {"training": False}. */
    private byte[] modulePickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2);                                                     // PROTO 2
        writeAscii(p, "c__torch__\n" + className + "\n");              // GLOBAL module, class
        p.write(')');                                                   // EMPTY_TUPLE
        p.write(0x81);                                                  // NEWOBJ
        p.write('}');                                                   // EMPTY_DICT
        byte[] key = "training".getBytes(StandardCharsets.UTF_8);
        p.write('X');                                                   // BINUNICODE
        p.write(key.length);
        p.write(0);
        p.write(0);
        p.write(0);
        p.write(key, 0, key.length);
        p.write(0x89);                                                  // NEWFALSE
        p.write('s');                                                   // SETITEM
        p.write('b');                                                   // BUILD
        p.write('.');                                                   // STOP
        return p.toByteArray();
    }

    private static void writeAscii(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        out.write(b, 0, b.length);
    }
}
