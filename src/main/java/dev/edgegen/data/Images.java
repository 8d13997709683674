package dev.edgegen.data;

import java.awt.image.BufferedImage;

/** Conversions between images and (3, H, W) float arrays in [-1, 1]. */
public final class Images {
    private Images() {}

    /** RGB(A) image → (3, H, W) in [-1, 1]; transparent pixels are composited over {@code background} (0xRRGGBB). */
    public static float[] toChw(BufferedImage img, int background) {
        int w = img.getWidth(), h = img.getHeight();
        float[] out = new float[3 * w * h];
        int br = background >> 16 & 255, bg = background >> 8 & 255, bb = background & 255;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                float a = img.getColorModel().hasAlpha() ? (argb >>> 24) / 255f : 1f;
                float r = (argb >> 16 & 255) * a + br * (1 - a);
                float g = (argb >> 8 & 255) * a + bg * (1 - a);
                float b = (argb & 255) * a + bb * (1 - a);
                int i = y * w + x;
                out[i] = r / 127.5f - 1;
                out[w * h + i] = g / 127.5f - 1;
                out[2 * w * h + i] = b / 127.5f - 1;
            }
        }
        return out;
    }

    /** Mirrors a (3, H, W) array left-right in place. */
    public static void flipHorizontal(float[] chw, int w, int h) {
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                int row = c * w * h + y * w;
                for (int x = 0; x < w / 2; x++) {
                    float t = chw[row + x];
                    chw[row + x] = chw[row + w - 1 - x];
                    chw[row + w - 1 - x] = t;
                }
            }
        }
    }
}
