package dev.edgegen.io;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** A white, antialiased RGB drawing surface for plots (headless: no display needed). */
public record Canvas(BufferedImage image, Graphics2D graphics) {
    /** A w×h white canvas; the pen is black with a 12-pt sans-serif font. */
    public static Canvas white(int w, int h) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        return new Canvas(img, g);
    }
}
