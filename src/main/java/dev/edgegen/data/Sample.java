package dev.edgegen.data;

/**
 * One training example: {@code pixels} (3, 64, 64) row-major RGB in [-1, 1], its caption, and for
 * synthetic scenes the ground-truth {@link Scene} (null for real images).
 */
public record Sample(float[] pixels, String caption, Scene scene) {}
