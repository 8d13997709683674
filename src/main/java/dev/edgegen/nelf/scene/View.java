package dev.edgegen.nelf.scene;

import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.RgbImage;

/** One posed image of a scene; {@code file} names where it came from (for messages and reports). */
public record View(Camera camera, RgbImage image, String file) {
    public View {
        if (image.width() != camera.width() || image.height() != camera.height()) {
            throw new IllegalArgumentException(file + ": image is " + image.width() + "x" + image.height()
                    + " but its camera is " + camera.width() + "x" + camera.height());
        }
    }
}
