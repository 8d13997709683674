package dev.edgegen.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.edgegen.nn.Conv2d;
import dev.edgegen.nn.GroupNorm;
import dev.edgegen.nn.Linear;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * A small CLIP (Radford et al. 2021) trained here: a CNN image tower and a linear projection of
 * the frozen MiniLM sentence embedding into a shared 256-d space, trained with the symmetric
 * InfoNCE loss and a learned temperature. {@link #clipScore} is the papers' CLIP score (mean cosine
 * of an image and its prompt); the 128-d pooled image features serve as the FID feature network.
 */
public final class ContrastiveModel extends Module {
    public static final int FEATURES = 128;
    public static final int EMBED = 256;
    public static final int TEXT = 384;

    private final List<Conv2d> convs = new ArrayList<>();
    private final List<GroupNorm> norms = new ArrayList<>();
    private final Linear imageProj;
    private final Linear textProj;
    private final Parameter logitScale; // (1), log of the inverse temperature

    public ContrastiveModel() {
        int[][] layers = {{3, 32, 2}, {32, 64, 2}, {64, 128, 2}, {128, 128, 2}, {128, FEATURES, 1}}; // 64 → 4
        for (int i = 0; i < layers.length; i++) {
            convs.add(register("conv" + i, new Conv2d(layers[i][0], layers[i][1], 3, layers[i][2], 1)));
            norms.add(register("norm" + i, new GroupNorm(8, layers[i][1], 1e-5f)));
        }
        imageProj = register("image_proj", new Linear(FEATURES, EMBED, false));
        textProj = register("text_proj", new Linear(TEXT, EMBED, false));
        logitScale = param("logit_scale", Parameter.Init.ONES, 1);
    }

    /** Random weights with the CLIP initial temperature 0.07. */
    public void init(NDManager manager, long seed) {
        initialize(manager, 0.05f, seed);
        logitScale.set(manager.create(new float[] {(float) Math.log(1 / 0.07)}));
    }

    /** images (B, 3, 64, 64) in [-1, 1] → pooled features (B, 128): the FID feature space. */
    public NDArray imageFeatures(NDArray images) {
        if (images.getShape().dimension() != 4 || images.getShape().get(1) != 3 || images.getShape().get(2) != 64) {
            throw new IllegalArgumentException("the contrastive model takes (B, 3, 64, 64) images, got " + images.getShape());
        }
        NDArray h = images;
        for (int i = 0; i < convs.size(); i++) h = norms.get(i).forwardSilu(convs.get(i).forward(h));
        return h.mean(new int[] {3}).mean(new int[] {2});
    }

    /** Unit-length image embeddings (B, 256). */
    public NDArray imageEmbedding(NDArray images) {
        return normalize(imageProj.forward(imageFeatures(images)));
    }

    /** Unit-length text embeddings (B, 256) from MiniLM sentence embeddings (B, 384). */
    public NDArray textEmbedding(NDArray sentence) {
        return normalize(textProj.forward(sentence));
    }

    /** Symmetric InfoNCE over a batch of matching (image, text) pairs. */
    public NDArray loss(NDArray images, NDArray sentence) {
        NDArray img = imageEmbedding(images);                                   // (B, E)
        NDArray txt = textEmbedding(sentence);                                  // (B, E)
        long b = img.getShape().get(0);
        NDArray scale = logitScale.get().clip(0f, 4.6052f).exp();               // ≤ 100
        NDArray logits = img.matMul(txt.transpose()).mul(scale);                 // (B, B)
        NDArray eye = img.getManager().eye((int) b);
        NDArray rows = logits.logSoftmax(1).mul(eye).sum().neg();
        NDArray cols = logits.logSoftmax(0).mul(eye).sum().neg();
        return rows.add(cols).div(2f * b);
    }

    /** CLIP score: mean over pairs of cos(image_i, text_i). */
    public static double clipScore(NDArray imageEmb, NDArray textEmb) {
        return imageEmb.mul(textEmb).sum(new int[] {1}).mean().getFloat();
    }

    private static NDArray normalize(NDArray x) {
        return x.div(x.norm(new int[] {1}, true).add(1e-6f));
    }
}
