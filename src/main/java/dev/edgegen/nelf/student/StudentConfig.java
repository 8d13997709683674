package dev.edgegen.nelf.student;

import java.util.Arrays;

/**
 * MobileR2L student (arXiv 2212.08057): K points per ray, each coordinate positionally encoded with
 * {@code freqs} frequencies plus the raw value (3·K·(2·freqs+1) channels), a body of {@code blocks}
 * residual blocks of 1x1 convs of {@code width} channels, and a super-resolution head of transposed
 * convs ({@code headChannels}, one per factor of {@code upscale}) ending in a 3x3 conv to RGB and a
 * sigmoid. Head kernels are 2s wide with padding s/2 (overlapping, the paper's 4x4 for 2x), or with
 * {@code compactHead} s wide without padding (non-overlapping: 1x1 sub-pixel convs, ~9x cheaper). Near/far are the ray bounds the K points span; {@code ndc}: rays in NDC (LLFF, near 0, far 1).
 */
public record StudentConfig(int k, int freqs, int width, int blocks, int[] headChannels, int[] upscale,
                            boolean compactHead, double near, double far, boolean ndc) {
    public StudentConfig {
        if (k < 2) throw new IllegalArgumentException("k (points per ray) must be >= 2, got " + k);
        if (freqs < 0 || freqs > 16) throw new IllegalArgumentException("freqs must be in 0..16, got " + freqs);
        if (width < 1 || blocks < 0) throw new IllegalArgumentException("width must be >= 1 and blocks >= 0");
        if (headChannels.length != upscale.length || headChannels.length == 0) {
            throw new IllegalArgumentException("headChannels and upscale need one entry per upsampling stage, got "
                    + Arrays.toString(headChannels) + " and " + Arrays.toString(upscale));
        }
        for (int s : upscale) if (s < 1 || s > 4) throw new IllegalArgumentException("each upscale factor must be in 1..4, got " + s);
        if (!(far > near)) throw new IllegalArgumentException("far must exceed near, got " + near + ", " + far);
        headChannels = headChannels.clone();
        upscale = upscale.clone();
    }

    /** The paper's model for synthetic scenes: width 256, 28 blocks, head 64-64-16, 8x. */
    public static StudentConfig paper(double near, double far) {
        return new StudentConfig(8, 6, 256, 28, new int[] {64, 64, 16}, new int[] {2, 2, 2}, false, near, far, false);
    }

    /** A CPU-sized student: width 128, 8 blocks, same head. */
    public static StudentConfig small(double near, double far) {
        return new StudentConfig(8, 6, 128, 8, new int[] {64, 64, 16}, new int[] {2, 2, 2}, false, near, far, false);
    }

    public StudentConfig withBounds(double near, double far, boolean ndc) {
        return new StudentConfig(k, freqs, width, blocks, headChannels, upscale, compactHead, near, far, ndc);
    }

    /** LLFF-style 12x head (3·2·2) for forward-facing scenes. */
    public StudentConfig forwardFacing() {
        return new StudentConfig(k, freqs, width, blocks, headChannels, new int[] {3, 2, 2}, compactHead, 0, 1, true);
    }

    public static StudentConfig preset(String name, double near, double far) {
        return switch (name) {
            case "paper" -> paper(near, far);
            case "small" -> small(near, far);
            case "fast" -> new StudentConfig(8, 6, 96, 6, new int[] {32, 32, 16}, new int[] {2, 2, 2}, true, near, far, false);
            case "tiny" -> new StudentConfig(8, 6, 32, 2, new int[] {16, 16, 8}, new int[] {2, 2, 2}, true, near, far, false);
            default -> throw new IllegalArgumentException("unknown student preset '" + name + "' (paper, small, fast, tiny)");
        };
    }

    public int inputChannels() { return 3 * k * (2 * freqs + 1); }

    public int totalUpscale() {
        int s = 1;
        for (int u : upscale) s *= u;
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StudentConfig c && k == c.k && freqs == c.freqs && width == c.width && blocks == c.blocks
                && Arrays.equals(headChannels, c.headChannels) && Arrays.equals(upscale, c.upscale) && compactHead == c.compactHead
                && near == c.near && far == c.far && ndc == c.ndc;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(k, freqs, width, blocks, Arrays.hashCode(headChannels), Arrays.hashCode(upscale), compactHead, near, far, ndc);
    }

    @Override
    public String toString() {
        return "StudentConfig[k=" + k + ", freqs=" + freqs + ", width=" + width + ", blocks=" + blocks + ", head="
                + Arrays.toString(headChannels) + ", upscale=" + Arrays.toString(upscale) + (compactHead ? ", compact head" : "") + ", near=" + near + ", far=" + far + ", ndc=" + ndc + "]";
    }
}
