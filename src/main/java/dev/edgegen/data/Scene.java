package dev.edgegen.data;

import java.util.List;
import java.util.Locale;

/**
 * Ground truth of a synthetic scene: background, 1–3 objects and, for two objects, the relation
 * of the first to the second. Coordinates are in pixels of the 64x64 image (y down).
 */
public record Scene(Background background, List<Obj> objects, Relation relation) {

    public enum ShapeKind { CIRCLE, SQUARE, TRIANGLE, STAR, HEART, DIAMOND, CROSS;
        public String word() { return name().toLowerCase(Locale.ROOT); }
    }

    public enum Colour {
        RED(220, 40, 40), ORANGE(245, 140, 20), YELLOW(240, 215, 30), GREEN(40, 165, 60), BLUE(40, 80, 220),
        PURPLE(140, 60, 190), PINK(245, 130, 190), BROWN(125, 75, 35), BLACK(20, 20, 20), WHITE(245, 245, 245);
        public final int r, g, b;
        Colour(int r, int g, int b) { this.r = r; this.g = g; this.b = b; }
        public String word() { return name().toLowerCase(Locale.ROOT); }
    }

    public enum Background {
        WHITE(250, 250, 250), BLACK(10, 10, 10), GRAY(128, 128, 128);
        public final int r, g, b;
        Background(int r, int g, int b) { this.r = r; this.g = g; this.b = b; }
        public String word() { return name().toLowerCase(Locale.ROOT); }
        /** Whether an object of colour {@code c} is visible on this background. */
        public boolean shows(Colour c) {
            return !(this == WHITE && c == Colour.WHITE) && !(this == BLACK && c == Colour.BLACK);
        }
    }

    public enum Size { SMALL, LARGE;
        public String word() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Position of the first object relative to the second. */
    public enum Relation { LEFT_OF, RIGHT_OF, ABOVE, BELOW;
        public Relation inverse() {
            return switch (this) { case LEFT_OF -> RIGHT_OF; case RIGHT_OF -> LEFT_OF; case ABOVE -> BELOW; case BELOW -> ABOVE; };
        }
    }

    /** One shape: centre (cx, cy) and half-extent {@code radius} in pixels. */
    public record Obj(ShapeKind shape, Colour colour, Size size, double cx, double cy, double radius) {
        /** Cell of a 3x3 grid: 0..8, row-major from the top left. */
        public int cell() {
            int col = Math.min(2, (int) (cx * 3 / 64));
            int row = Math.min(2, (int) (cy * 3 / 64));
            return row * 3 + col;
        }
    }

    public int count() { return objects.size(); }
}
