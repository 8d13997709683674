package dev.edgegen.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
    @TempDir Path dir;

    static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb);
        return img;
    }

    @Test
    void tensorImageRoundTripIsExactOn8BitValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
            int[] px = {0x000000, 0xFFFFFF, 0x123456, 0xFF0080, 0x7F7F7F, 0x01FE02};
            img.setRGB(0, 0, 3, 2, px, 0, 3);
            NDArray t = Images.toArray(img, m);
            assertEquals(new Shape(3, 2, 3), t.getShape());
            assertEquals(0x12 / 255f, t.getFloat(0, 0, 2), 1e-7f); // R of (x=2, y=0)
            assertEquals(0x80 / 255f, t.getFloat(2, 1, 0), 1e-7f); // B of (x=0, y=1)
            int[] back = Images.toImage(t).getRGB(0, 0, 3, 2, null, 0, 3);
            for (int i = 0; i < px.length; i++) assertEquals(px[i], back[i] & 0xFFFFFF, "pixel " + i);
        }
    }

    @Test
    void batchInMinusOneToOneMapsToBytesWithClamping() {
        try (NDManager m = NDManager.newBaseManager()) {
            // (B=2, 3, 1, 2): pixel values -1, 1 | 0, 2 | -3, 0.5 for batch 0; batch 1 all 0
            float[] v = new float[12];
            float[] b0 = {-1, 1, 0, 2, -3, 0.5f};
            System.arraycopy(b0, 0, v, 0, 6);
            List<BufferedImage> imgs = Images.fromBatch(m.create(v, new Shape(2, 3, 1, 2)));
            assertEquals(2, imgs.size());
            // R: -1 → 0, 1 → 255; G: 0 → 128 (127.5 rounds up), 2 → 255; B: -3 → 0, 0.5 → 191 (191.25)
            assertEquals(0x00_80_00, imgs.get(0).getRGB(0, 0) & 0xFFFFFF);
            assertEquals(0xFF_FF_BF, imgs.get(0).getRGB(1, 0) & 0xFFFFFF);
            assertEquals(0x80_80_80, imgs.get(1).getRGB(1, 0) & 0xFFFFFF);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Images.fromBatch(m.create(new float[] {Float.NaN, 0, 0}, new Shape(1, 3, 1, 1))));
            assertTrue(e.getMessage().contains("NaN"));
            e = assertThrows(IllegalArgumentException.class, () -> Images.fromBatch(m.zeros(new Shape(1, 4, 2, 2))));
            assertTrue(e.getMessage().contains("(B, 3, H, W)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Images.toImage(m.zeros(new Shape(2, 2))));
        }
    }

    @Test
    void unreadableFilesGiveClearErrors() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Images.read(dir.resolve("nope.png"), m));
            assertTrue(e.getMessage().contains("nope.png") && e.getMessage().contains("not found"), e.getMessage());
            Path junk = Files.write(dir.resolve("junk.png"), new byte[] {1, 2, 3, 4});
            e = assertThrows(IllegalArgumentException.class, () -> Images.read(junk, m));
            assertTrue(e.getMessage().contains("junk.png") && e.getMessage().contains("not a readable image"), e.getMessage());
        }
    }

    @Test
    void gridPlacesImagesRowMajor() {
        BufferedImage g = Images.grid(List.of(solid(4, 3, 0xFF0000), solid(4, 3, 0x00FF00), solid(4, 3, 0x0000FF)), 2);
        assertEquals(8, g.getWidth());
        assertEquals(6, g.getHeight());
        assertEquals(0xFF0000, g.getRGB(3, 2) & 0xFFFFFF);
        assertEquals(0x00FF00, g.getRGB(4, 0) & 0xFFFFFF);
        assertEquals(0x0000FF, g.getRGB(0, 3) & 0xFFFFFF);
        assertEquals(0xFFFFFF, g.getRGB(7, 5) & 0xFFFFFF, "empty cell is white");
        assertThrows(IllegalArgumentException.class, () -> Images.grid(List.of(), 2));
        assertThrows(IllegalArgumentException.class, () -> Images.grid(List.of(solid(1, 1, 0)), 1, List.of("a", "b")));
    }

    @Test
    void captionsAreDrawnUnderEachImage() {
        List<BufferedImage> imgs = List.of(solid(40, 20, 0x808080), solid(40, 20, 0x808080));
        BufferedImage g = Images.grid(imgs, 2, List.of("I", "a long caption that wraps"));
        // scale 1, pad 2: cell step 42, caption of 4 lines (6 chars per line) = 4 * 9 + 4
        assertEquals(2 * 42 + 2, g.getWidth());
        assertEquals(20 + 4 * 9 + 4, g.getHeight());
        // glyph 'I' (.###. / ..#.. x5 / .###.) drawn at x = 2, y = 20 + 2 + 1
        int x0 = 2;
        int y0 = 23;
        int[] rowI = {0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110};
        for (int r = 0; r < 7; r++) {
            for (int c = 0; c < 5; c++) {
                boolean on = (rowI[r] & (0x10 >> c)) != 0;
                assertEquals(on ? 0x000000 : 0xFFFFFF, g.getRGB(x0 + c, y0 + r) & 0xFFFFFF, "glyph I at row " + r + " col " + c);
            }
        }
        assertEquals(0x808080, g.getRGB(44 + 10, 10) & 0xFFFFFF, "second image in place");
    }

    @Test
    void wrapBreaksOnWordsAndSplitsLongWords() {
        assertEquals(List.of("a long", "captio", "n that", "wraps"), Images.wrap("a long caption that wraps", 6));
        assertEquals(List.of("one", "two"), Images.wrap("one\ntwo", 10));
        assertArrayEquals(new Object[] {""}, Images.wrap("", 5).toArray());
    }
}
