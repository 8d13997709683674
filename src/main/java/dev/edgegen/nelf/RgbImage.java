package dev.edgegen.nelf;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/** An RGB image with float channels in [0, 1], row-major HWC ({@code rgb} has H*W*3 values). */
public record RgbImage(int width, int height, float[] rgb) {
    public RgbImage {
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException("expected " + width * height * 3 + " values for " + width + "x" + height + ", got " + rgb.length);
        }
    }

    /** Reads a PNG/JPEG; an alpha channel is composited over a white background. */
    public static RgbImage read(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read image (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new IllegalArgumentException(file + ": not a readable image (PNG or JPEG expected)");
        }
        return fromBuffered(img);
    }

    public static RgbImage fromBuffered(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        float[] rgb = new float[w * h * 3];
        boolean alpha = img.getColorModel().hasAlpha();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                float a = alpha ? ((argb >>> 24) & 255) / 255f : 1f;
                int p = (y * w + x) * 3;
                rgb[p] = ((argb >> 16) & 255) / 255f * a + (1 - a);
                rgb[p + 1] = ((argb >> 8) & 255) / 255f * a + (1 - a);
                rgb[p + 2] = (argb & 255) / 255f * a + (1 - a);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    public BufferedImage toBuffered() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = (y * width + x) * 3;
                img.setRGB(x, y, (byte8(rgb[p]) << 16) | (byte8(rgb[p + 1]) << 8) | byte8(rgb[p + 2]));
            }
        }
        return img;
    }

    public static int byte8(float v) {
        return Math.max(0, Math.min(255, Math.round(v * 255f)));
    }

    /** Writes a PNG atomically (temp file + rename). */
    public void writePng(Path file) {
        try {
            Path abs = file.toAbsolutePath();
            Files.createDirectories(abs.getParent());
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            ImageIO.write(toBuffered(), "png", tmp.toFile());
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Images side by side (all the same height). */
    public static RgbImage hstack(List<RgbImage> images) {
        int h = images.get(0).height, w = 0;
        for (RgbImage im : images) {
            if (im.height != h) throw new IllegalArgumentException("hstack: heights differ");
            w += im.width;
        }
        float[] out = new float[w * h * 3];
        int x0 = 0;
        for (RgbImage im : images) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(im.rgb, y * im.width * 3, out, (y * w + x0) * 3, im.width * 3);
            }
            x0 += im.width;
        }
        return new RgbImage(w, h, out);
    }

    /** Writes a looping animated GIF, {@code delayMs} per frame. */
    public static void writeGif(List<RgbImage> frames, int delayMs, Path file) {
        try {
            Path abs = file.toAbsolutePath();
            Files.createDirectories(abs.getParent());
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(tmp.toFile())) {
                writer.setOutput(out);
                writer.prepareWriteSequence(null);
                for (RgbImage f : frames) {
                    BufferedImage img = f.toBuffered();
                    IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), null);
                    String fmt = meta.getNativeMetadataFormatName();
                    IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(fmt);
                    IIOMetadataNode gce = child(root, "GraphicControlExtension");
                    gce.setAttribute("disposalMethod", "none");
                    gce.setAttribute("userInputFlag", "FALSE");
                    gce.setAttribute("transparentColorFlag", "FALSE");
                    gce.setAttribute("delayTime", Integer.toString(Math.max(1, delayMs / 10)));
                    gce.setAttribute("transparentColorIndex", "0");
                    IIOMetadataNode apps = child(root, "ApplicationExtensions");
                    IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
                    app.setAttribute("applicationID", "NETSCAPE");
                    app.setAttribute("authenticationCode", "2.0");
                    app.setUserObject(new byte[] {1, 0, 0}); // loop forever
                    apps.appendChild(app);
                    meta.setFromTree(fmt, root);
                    writer.writeToSequence(new IIOImage(img, null, meta), null);
                }
                writer.endWriteSequence();
            } finally {
                writer.dispose();
            }
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
        for (int i = 0; i < root.getLength(); i++) {
            if (root.item(i).getNodeName().equalsIgnoreCase(name)) return (IIOMetadataNode) root.item(i);
        }
        IIOMetadataNode node = new IIOMetadataNode(name);
        root.appendChild(node);
        return node;
    }
}
