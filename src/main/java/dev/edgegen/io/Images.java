package dev.edgegen.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** Images as tensors and back, and image grids with captions. */
public final class Images {
    private Images() {}

    /** Decodes an image file (PNG, JPEG, BMP, GIF); throws IllegalArgumentException naming the file and the problem. */
    public static BufferedImage readImage(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(path + ": image file not found");
        }
        BufferedImage img;
        try {
            img = ImageIO.read(path.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": cannot decode image: " + e.getMessage(), e);
        }
        if (img == null) {
            throw new IllegalArgumentException(path + ": not a readable image (supported: PNG, JPEG, BMP, GIF)");
        }
        return img;
    }

    /** Reads an image file as RGB (3, H, W) float32 in [0, 1] (alpha is dropped). */
    public static NDArray read(Path path, NDManager manager) {
        return toArray(readImage(path), manager);
    }

    /** RGB (3, H, W) float32 in [0, 1]. */
    public static NDArray toArray(BufferedImage img, NDManager manager) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        int plane = w * h;
        float[] chw = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            int p = argb[i];
            chw[i] = ((p >> 16) & 0xFF) / 255f;
            chw[plane + i] = ((p >> 8) & 0xFF) / 255f;
            chw[2 * plane + i] = (p & 0xFF) / 255f;
        }
        return manager.create(chw, new Shape(3, h, w));
    }

    /** A (3, H, W) image with values in [0, 1] (clamped) as an 8-bit RGB image. */
    public static BufferedImage toImage(NDArray chw) {
        Shape s = chw.getShape();
        if (s.dimension() != 3 || s.get(0) != 3) {
            throw new IllegalArgumentException("expected an image tensor of shape (3, H, W), got " + s);
        }
        float[] v = floats(chw);
        return pack(v, 0, (int) s.get(1), (int) s.get(2), 1f, 0f);
    }

    /** A (B, 3, H, W) batch with values in [-1, 1] (the decoder's output range, clamped) as B RGB images. */
    public static List<BufferedImage> fromBatch(NDArray bchw) {
        Shape s = bchw.getShape();
        if (s.dimension() != 4 || s.get(1) != 3) {
            throw new IllegalArgumentException("expected an image batch of shape (B, 3, H, W), got " + s);
        }
        float[] v = floats(bchw);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        List<BufferedImage> out = new ArrayList<>();
        for (int b = 0; b < s.get(0); b++) {
            out.add(pack(v, b * 3 * h * w, h, w, 0.5f, 0.5f));
        }
        return out;
    }

    /**
     * The channels of a latent batch (B, C, h, w) as B·C grey images (row-major: image 0's channels first),
     * each upscaled {@code scale} times by repetition; 0 is mid-grey and ±{@code range} black / white.
     */
    public static List<BufferedImage> channels(NDArray latents, int scale, float range) {
        Shape s = latents.getShape();
        if (s.dimension() != 4) throw new IllegalArgumentException("expected a latent batch (B, C, h, w), got " + s);
        float[] v = floats(latents);
        int h = (int) s.get(2), w = (int) s.get(3);
        List<BufferedImage> out = new ArrayList<>();
        for (int m = 0; m < s.get(0) * s.get(1); m++) {
            BufferedImage img = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h * scale; y++) {
                for (int x = 0; x < w * scale; x++) {
                    int q = byteOf(v[(m * h + y / scale) * w + x / scale], 0.5f / range, 0.5f);
                    img.setRGB(x, y, q << 16 | q << 8 | q);
                }
            }
            out.add(img);
        }
        return out;
    }

    private static float[] floats(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) return a.toFloatArray();
        try (NDArray f = a.toType(DataType.FLOAT32, false)) {
            return f.toFloatArray();
        }
    }

    /** Pixels {@code v[off..]} in (3, H, W) order mapped by {@code x * scale + shift} onto 0..255. */
    private static BufferedImage pack(float[] v, int off, int h, int w, float scale, float shift) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int plane = h * w;
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = byteOf(v[off + i], scale, shift) << 16 | byteOf(v[off + plane + i], scale, shift) << 8
                    | byteOf(v[off + 2 * plane + i], scale, shift);
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    private static int byteOf(float x, float scale, float shift) {
        if (Float.isNaN(x)) {
            throw new IllegalArgumentException("image tensor contains NaN: the model produced invalid values");
        }
        float y = Math.min(1f, Math.max(0f, x * scale + shift));
        return Math.round(y * 255f);
    }

    // ---------------------------------------------------------------- grids

    /** Images in rows of {@code cols}, each in a cell of the largest image's size, no gaps. */
    public static BufferedImage grid(List<BufferedImage> images, int cols) {
        return grid(images, cols, null);
    }

    /**
     * Images in rows of {@code cols}; with {@code captions} (one per image) each image gets its
     * caption, word-wrapped, in black on white under it. Text is drawn with a built-in 5x7 pixel
     * font (ASCII; other characters show as '?'), so the result is the same on every machine.
     */
    public static BufferedImage grid(List<BufferedImage> images, int cols, List<String> captions) {
        if (images.isEmpty()) throw new IllegalArgumentException("grid needs at least one image");
        if (cols < 1) throw new IllegalArgumentException("grid columns must be >= 1, got " + cols);
        if (captions != null && captions.size() != images.size()) {
            throw new IllegalArgumentException("grid got " + images.size() + " images but " + captions.size() + " captions");
        }
        int cellW = 0;
        int cellH = 0;
        for (BufferedImage i : images) {
            cellW = Math.max(cellW, i.getWidth());
            cellH = Math.max(cellH, i.getHeight());
        }
        int rows = (images.size() + cols - 1) / cols;
        cols = Math.min(cols, images.size());
        int scale = Math.max(1, cellW / 200);
        int pad = captions == null ? 0 : 2 * scale;
        List<List<String>> lines = new ArrayList<>();
        int maxLines = 0;
        if (captions != null) {
            int perLine = Math.max(1, (cellW - 2 * pad) / (GLYPH_ADVANCE * scale));
            for (String c : captions) {
                List<String> l = wrap(c == null ? "" : c, perLine);
                lines.add(l);
                maxLines = Math.max(maxLines, l.size());
            }
        }
        int captionH = captions == null ? 0 : maxLines * LINE_HEIGHT * scale + 2 * pad;
        int stepX = cellW + pad;
        int stepY = cellH + captionH;
        BufferedImage out = new BufferedImage(cols * stepX + pad, rows * stepY, BufferedImage.TYPE_INT_RGB);
        int[] white = new int[out.getWidth() * out.getHeight()];
        java.util.Arrays.fill(white, 0xFFFFFF);
        out.setRGB(0, 0, out.getWidth(), out.getHeight(), white, 0, out.getWidth());
        for (int n = 0; n < images.size(); n++) {
            int x = (n % cols) * stepX + pad;
            int y = (n / cols) * stepY;
            BufferedImage img = images.get(n);
            out.setRGB(x, y, img.getWidth(), img.getHeight(), img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth()), 0, img.getWidth());
            if (captions != null) {
                List<String> l = lines.get(n);
                for (int li = 0; li < l.size(); li++) {
                    drawText(out, l.get(li), x, y + cellH + pad + li * LINE_HEIGHT * scale + scale, scale, 0x000000);
                }
            }
        }
        return out;
    }

    /** Word wrap to {@code width} characters; words longer than a line are broken. */
    static List<String> wrap(String text, int width) {
        List<String> out = new ArrayList<>();
        for (String para : text.split("\n", -1)) {
            StringBuilder line = new StringBuilder();
            for (String word : para.trim().split("\\s+")) {
                while (word.length() > width) {
                    if (line.length() > 0) {
                        out.add(line.toString());
                        line.setLength(0);
                    }
                    out.add(word.substring(0, width));
                    word = word.substring(width);
                }
                if (word.isEmpty()) continue;
                if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                    out.add(line.toString());
                    line.setLength(0);
                }
                if (line.length() > 0) line.append(' ');
                line.append(word);
            }
            out.add(line.toString());
        }
        return out;
    }

    static final int GLYPH_ADVANCE = 6;
    static final int LINE_HEIGHT = 9;

    /** Draws {@code text} with its top-left corner at (x, y), clipped to the image. */
    static void drawText(BufferedImage img, String text, int x, int y, int scale, int rgb) {
        for (int c = 0; c < text.length(); c++) {
            char ch = text.charAt(c);
            int g = (ch >= 32 && ch < 127 ? ch : '?') - 32;
            for (int row = 0; row < 7; row++) {
                int bits = Integer.parseInt(FONT.substring(g * 14 + row * 2, g * 14 + row * 2 + 2), 16);
                for (int col = 0; col < 5; col++) {
                    if ((bits & (0x10 >> col)) == 0) continue;
                    for (int dy = 0; dy < scale; dy++) {
                        for (int dx = 0; dx < scale; dx++) {
                            int px = x + (c * GLYPH_ADVANCE + col) * scale + dx;
                            int py = y + row * scale + dy;
                            if (px >= 0 && py >= 0 && px < img.getWidth() && py < img.getHeight()) img.setRGB(px, py, rgb);
                        }
                    }
                }
            }
        }
    }

    /** 5x7 glyphs for ASCII 32..126, 7 rows of 5 bits (MSB = leftmost) per glyph, two hex digits per row. */
    private static final String FONT =
            "00000000000000040404040400040A0A00000000000A0A1F0A1F0A0A040F140E051E04181902040813030C12140815120D04040000000000" +
            "02040808080402080402020204080004150E1504000004041F040400000000000C04080000001F00000000000000000C0C00010204081000" +
            "0E11131519110E040C040404040E0E11010204081F1F02040201110E02060A121F02021F101E0101110E0608101E11110E1F010204080808" +
            "0E11110E11110E0E11110F01020C000C0C000C0C00000C0C000C04080204081008040200001F001F0000080402010204080E110102040004" +
            "0E11010D15150E0E11111F1111111E11111E11111E0E11101010110E1C12111111121C1F10101E10101F1F10101E1010100E11101711110F" +
            "1111111F1111110E04040404040E0702020202120C111214181412111010101010101F111B1515111111111119151311110E11111111110E" +
            "1E11111E1010100E11111115120D1E11111E1412110F10100E01011E1F0404040404041111111111110E11111111110A041111111515150A" +
            "11110A040A111111110A040404041F01020408101F0E08080808080E001008040201000E02020202020E040A11000000000000000000001F" +
            "0804000000000000000E010F110F1010161911111E00000E1010110E01010D1311110F00000E111F100E0609081C080808000F11110F010E" +
            "1010161911111104000C0404040E0200060202120C101012141814120C04040404040E00001A151511110000161911111100000E1111110E" +
            "00001E111E101000000D130F01010000161910101000000E100E011E08081C080809060000111111130D00001111110A040000111115150A" +
            "0000110A040A11000011110F010E00001F0204081F02040408040402040404040404040804040204040800000815020000";
}
