package dev.edgegen.io;

import ai.djl.ndarray.NDArray;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * PNG files with text chunks (e.g. key {@code parameters} holding the prompt and settings, as
 * other Stable Diffusion tools do). Latin-1 text is stored as tEXt, anything else as UTF-8 iTXt.
 */
public final class Png {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final String FORMAT = "javax_imageio_png_1.0";

    private Png() {}

    /** Writes a (3, H, W) image with values in [0, 1]. */
    public static void write(Path path, NDArray image, Map<String, String> text) {
        write(path, Images.toImage(image), text);
    }

    /** Writes {@code image} with {@code text} chunks, atomically (temp file + rename). */
    public static void write(Path path, BufferedImage image, Map<String, String> text) {
        byte[] png = encode(image, text);
        try {
            AtomicFiles.write(path, ch -> {
                ByteBuffer b = ByteBuffer.wrap(png);
                while (b.hasRemaining()) ch.write(b);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write PNG: " + e.getMessage(), e);
        }
    }

    /** The PNG bytes of {@code image} with {@code text} chunks (for files and HTTP responses). */
    public static byte[] encode(BufferedImage image, Map<String, String> text) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
            if (text != null && !text.isEmpty()) {
                meta.mergeTree(FORMAT, textTree(text));
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, meta), param);
            }
            return bytes.toByteArray();
        } catch (IIOInvalidTreeException e) {
            throw new IllegalArgumentException("cannot store PNG text chunks: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode PNG: " + e.getMessage(), e);
        } finally {
            writer.dispose();
        }
    }

    private static IIOMetadataNode textTree(Map<String, String> text) {
        IIOMetadataNode root = new IIOMetadataNode(FORMAT);
        IIOMetadataNode latin = new IIOMetadataNode("tEXt");
        IIOMetadataNode intl = new IIOMetadataNode("iTXt");
        for (var e : text.entrySet()) {
            checkKeyword(e.getKey());
            String v = e.getValue() == null ? "" : e.getValue();
            if (StandardCharsets.ISO_8859_1.newEncoder().canEncode(v) && v.indexOf('\0') < 0) {
                IIOMetadataNode n = new IIOMetadataNode("tEXtEntry");
                n.setAttribute("keyword", e.getKey());
                n.setAttribute("value", v);
                latin.appendChild(n);
            } else {
                IIOMetadataNode n = new IIOMetadataNode("iTXtEntry");
                n.setAttribute("keyword", e.getKey());
                n.setAttribute("compressionFlag", "FALSE");
                n.setAttribute("compressionMethod", "0");
                n.setAttribute("languageTag", "");
                n.setAttribute("translatedKeyword", "");
                n.setAttribute("text", v);
                intl.appendChild(n);
            }
        }
        if (latin.hasChildNodes()) root.appendChild(latin);
        if (intl.hasChildNodes()) root.appendChild(intl);
        return root;
    }

    /** PNG keywords: 1–79 printable Latin-1 characters, no leading, trailing or double spaces. */
    private static void checkKeyword(String k) {
        boolean ok = k != null && !k.isEmpty() && k.length() <= 79 && !k.startsWith(" ") && !k.endsWith(" ") && !k.contains("  ");
        for (int i = 0; ok && i < k.length(); i++) {
            char c = k.charAt(i);
            ok = (c >= 32 && c <= 126) || (c >= 161 && c <= 255);
        }
        if (!ok) {
            throw new IllegalArgumentException("invalid PNG text keyword '" + k + "': use 1-79 printable Latin-1 characters without leading, trailing or double spaces");
        }
    }

    /** The tEXt, zTXt and iTXt chunks of a PNG file as keyword → text, in file order. */
    public static Map<String, String> readText(Path path) {
        byte[] b;
        try {
            b = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(path + ": file not found");
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read: " + e.getMessage(), e);
        }
        return readText(path.getFileName().toString(), b);
    }

    static Map<String, String> readText(String name, byte[] b) {
        if (b.length < 8 || !Arrays.equals(Arrays.copyOf(b, 8), SIGNATURE)) {
            throw new IllegalArgumentException(name + ": not a PNG file");
        }
        Map<String, String> out = new LinkedHashMap<>();
        ByteBuffer buf = ByteBuffer.wrap(b);
        int pos = 8;
        while (pos + 12 <= b.length) {
            long len = buf.getInt(pos) & 0xFFFFFFFFL;
            String type = new String(b, pos + 4, 4, StandardCharsets.ISO_8859_1);
            if (pos + 12 + len > b.length) {
                throw new IllegalArgumentException(name + ": truncated PNG: chunk " + type + " at byte " + pos + " runs past the end");
            }
            int start = pos + 8;
            int end = start + (int) len;
            switch (type) {
                case "tEXt" -> {
                    int z = indexOf0(b, start, end);
                    out.put(latin1(b, start, z), latin1(b, z + 1, end));
                }
                case "zTXt" -> {
                    int z = indexOf0(b, start, end);
                    out.put(latin1(b, start, z), new String(inflate(name, b, z + 2, end), StandardCharsets.ISO_8859_1));
                }
                case "iTXt" -> {
                    int z = indexOf0(b, start, end);
                    boolean compressed = b[z + 1] != 0;
                    int lang = indexOf0(b, z + 3, end);
                    int translated = indexOf0(b, lang + 1, end);
                    byte[] t = compressed ? inflate(name, b, translated + 1, end) : Arrays.copyOfRange(b, translated + 1, end);
                    out.put(latin1(b, start, z), new String(t, StandardCharsets.UTF_8));
                }
                case "IEND" -> {
                    return out;
                }
                default -> { }
            }
            pos = end + 4;
        }
        throw new IllegalArgumentException(name + ": truncated PNG: no IEND chunk in " + b.length + " bytes");
    }

    private static int indexOf0(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == 0) return i;
        }
        throw new IllegalArgumentException("malformed PNG text chunk: missing separator");
    }

    private static String latin1(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private static byte[] inflate(String name, byte[] b, int from, int to) {
        Inflater inf = new Inflater();
        try {
            inf.setInput(b, from, to - from);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            while (!inf.finished()) {
                int n = inf.inflate(chunk);
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new IllegalArgumentException(name + ": truncated compressed PNG text chunk");
                }
                out.write(chunk, 0, n);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IllegalArgumentException(name + ": corrupt compressed PNG text chunk: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
    }

}
