package dev.edgegen.nelf.student;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.ConvTranspose2d;
import dev.edgegen.nn.Module;

/**
 * The MobileR2L neural light field: an image-shaped grid of encoded rays (1, 3·K·13, h, w) →
 * 1x1-conv body with residual blocks → transposed-conv super-resolution head → RGB (1, 3, h·s, w·s).
 * Keys: {@code input.*}, {@code blocks.i.conv1.*}, {@code blocks.i.conv2.*}, {@code head.i.*}, {@code out.*}.
 */
public final class MobileR2L extends Module {
    public final StudentConfig config;
    private final Conv2d input;
    private final Block[] blocks;
    private final ConvTranspose2d[] head;
    private final Conv2d out;

    /** x + conv2(gelu(conv1(x))), then GELU. */
    static final class Block extends Module {
        final Conv2d conv1;
        final Conv2d conv2;

        Block(int width) {
            conv1 = register("conv1", new Conv2d(width, width, 1, 1, 0));
            conv2 = register("conv2", new Conv2d(width, width, 1, 1, 0));
        }

        NDArray forward(NDArray x) { // (B, C, h, w)
            NDArray y = conv2.forward(Activation.gelu(conv1.forward(x)));
            return Activation.gelu(x.add(y));
        }
    }

    static final class Stack extends Module {
        <M extends Module> M add(int i, M m) { return register(Integer.toString(i), m); }
    }

    public MobileR2L(StudentConfig config) {
        this.config = config;
        input = register("input", new Conv2d(config.inputChannels(), config.width(), 1, 1, 0));
        Stack bs = register("blocks", new Stack());
        blocks = new Block[config.blocks()];
        for (int i = 0; i < blocks.length; i++) blocks[i] = bs.add(i, new Block(config.width()));
        Stack hs = register("head", new Stack());
        head = new ConvTranspose2d[config.upscale().length];
        int c = config.width();
        for (int i = 0; i < head.length; i++) {
            int s = config.upscale()[i];
            int kernel = config.compactHead() || s % 2 == 1 ? s : 2 * s;
            int pad = kernel == s ? 0 : s / 2;
            head[i] = hs.add(i, new ConvTranspose2d(c, config.headChannels()[i], kernel, s, pad));
            c = config.headChannels()[i];
        }
        out = register("out", new Conv2d(c, 3, 3, 1, 1));
    }

    /** He-style init (std sqrt(2 / fan_in)) per layer; deterministic for a seed. */
    public void initialize(NDManager manager, long seed) {
        initialize(manager, 1f, seed);
        scale(input.weight, 2.0 / input.in);
        for (Block b : blocks) {
            scale(b.conv1.weight, 2.0 / b.conv1.in);
            scale(b.conv2.weight, 0.5 / b.conv2.in); // small residual branches keep deep stacks stable
        }
        for (ConvTranspose2d h : head) scale(h.weight, 2.0 * h.stride * h.stride / ((double) h.in * h.kernel * h.kernel));
        scale(out.weight, 1.0 / (out.in * 9.0));
    }

    private static void scale(dev.edgegen.nn.Parameter p, double variance) {
        p.set(p.get().mul((float) Math.sqrt(variance)));
    }

    /** rays: (B, 3·K·13, h, w) → RGB in [0, 1]: (B, 3, h·s, w·s). */
    public NDArray forward(NDArray rays) {
        NDArray x = Activation.gelu(input.forward(rays));
        for (Block b : blocks) x = b.forward(x);
        for (ConvTranspose2d h : head) x = Activation.gelu(h.forward(x));
        return Activation.sigmoid(out.forward(x));
    }

    /** Renders one camera view: encodes the low-resolution ray grid and runs the network. Returns (1, 3, H, W). */
    public NDArray render(NDManager manager, Camera cam) {
        return forward(RayEncoder.encode(manager, cam, config));
    }

    /** Renders one camera view to an image (no gradients; the arrays are freed). */
    public RgbImage renderImage(NDManager manager, Camera cam) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray out = render(sub, cam).get(0).transpose(1, 2, 0);            // (H, W, 3)
            return new RgbImage(cam.width(), cam.height(), out.toFloatArray());
        }
    }

    /** FLOPs of one frame of {@code width x height} pixels as executed (multiply-adds × 2, convs only; the head counted in its sub-pixel form). */
    public long flopsPerFrame(int width, int height) {
        int s = config.totalUpscale();
        long rays = (long) (width / s) * (height / s);
        long f = rays * input.flopsPerOutputPixel();
        for (Block b : blocks) f += rays * (b.conv1.flopsPerOutputPixel() + b.conv2.flopsPerOutputPixel());
        long px = rays;
        for (ConvTranspose2d h : head) {
            f += px * h.executedFlopsPerInputPixel();
            px *= (long) h.stride * h.stride;
        }
        return f + px * out.flopsPerOutputPixel();
    }
}
