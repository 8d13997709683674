package dev.edgegen.nelf.scene;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The posed images of one scene, split into train / val / test, with the ray bounds the models
 * sample between. {@code ndc}: rays are in normalised device coordinates (LLFF forward-facing),
 * where near = 0 and far = 1.
 */
public record SceneDataset(String name, List<View> train, List<View> val, List<View> test,
                           double near, double far, boolean ndc) {
    public SceneDataset {
        if (train.isEmpty()) throw new IllegalArgumentException(name + ": no training views");
        if (!(near >= 0 && far > near)) throw new IllegalArgumentException(name + ": need 0 <= near < far, got " + near + ", " + far);
        train = List.copyOf(train);
        val = List.copyOf(val);
        test = List.copyOf(test);
    }

    public int width() { return train.get(0).camera().width(); }

    public int height() { return train.get(0).camera().height(); }

    public double focal() { return train.get(0).camera().focal(); }

    /** Loads a NeRF-synthetic folder (transforms_*.json) or an LLFF folder (poses_bounds.npy). */
    public static SceneDataset load(Path dir) {
        if (Files.isRegularFile(dir.resolve("transforms_train.json"))) return NerfSyntheticLoader.load(dir);
        if (Files.isRegularFile(dir.resolve("poses_bounds.npy"))) return LlffLoader.load(dir, 1);
        throw new IllegalArgumentException(dir + ": not a scene folder (expected transforms_train.json for the"
                + " NeRF-synthetic layout or poses_bounds.npy for LLFF)");
    }
}
