package dev.edgegen.nelf;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.cli.ProgressBar;
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.View;
import dev.edgegen.nelf.student.StudentTask;
import dev.edgegen.nelf.teacher.VoxelNeRF;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * MobileR2L's data distillation: the teacher renders pseudo images from new poses near the
 * training cameras, stored as {@code pseudo/p_NNNNN.png} with {@code pseudo/poses.json}; the
 * generation is resumable (existing images are kept) and depends only on the seed.
 * 360° scenes: poses on the shell of the training cameras (their mean distance, azimuth uniform,
 * elevation within the training range). Forward-facing (NDC) scenes: training poses with their
 * positions jittered within the training cameras' spread.
 */
public final class Distiller {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Distiller() {}

    public static List<double[]> pseudoPoses(SceneDataset data, int count, long seed) {
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        List<double[]> out = new ArrayList<>(count);
        List<View> train = data.train();
        if (data.ndc()) {
            double[] lo = {1e9, 1e9, 1e9}, hi = {-1e9, -1e9, -1e9};
            for (View v : train) for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], v.camera().c2w()[4 * a + 3]);
                hi[a] = Math.max(hi[a], v.camera().c2w()[4 * a + 3]);
            }
            for (int i = 0; i < count; i++) {
                double[] m = train.get(rng.nextInt(train.size())).camera().c2w().clone();
                for (int a = 0; a < 3; a++) m[4 * a + 3] += (rng.nextDouble() - 0.5) * 0.5 * (hi[a] - lo[a]);
                out.add(m);
            }
            return out;
        }
        double r = 0, elMin = 90, elMax = -90;
        for (View v : train) {
            double[] o = v.camera().origin();
            double d = Math.sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
            r += d / train.size();
            double el = Math.toDegrees(Math.asin(o[2] / d));
            elMin = Math.min(elMin, el);
            elMax = Math.max(elMax, el);
        }
        for (int i = 0; i < count; i++) {
            out.add(Poses.spherical(rng.nextDouble() * 360, elMin + rng.nextDouble() * (elMax - elMin), r));
        }
        return out;
    }

    /** Renders (or reuses) {@code count} pseudo views at the dataset's resolution into {@code dir/pseudo}. */
    public static List<StudentTask.Target> pseudoViews(NDManager manager, VoxelNeRF teacher, SceneDataset data, int count,
                                                          long seed, Path dir, PrintStream log) {
        Path pd = dir.resolve("pseudo");
        List<double[]> poses = pseudoPoses(data, count, seed);
        double focal = data.focal();
        List<StudentTask.Target> out = new ArrayList<>(count);
        try {
            Files.createDirectories(pd);
            ObjectNode meta = JSON.createObjectNode();
            meta.put("focal", focal);
            meta.put("width", data.width());
            meta.put("height", data.height());
            meta.put("seed", seed);
            ArrayNode arr = meta.putArray("poses");
            for (double[] p : poses) {
                ArrayNode a = arr.addArray();
                for (double v : p) a.add(v);
            }
            Path metaFile = pd.resolve("poses.json");
            if (Files.isRegularFile(metaFile)) {
                JsonNode old = JSON.readTree(metaFile.toFile());
                if (old.path("seed").asLong() != seed || old.path("width").asInt() != data.width() || old.path("focal").asDouble() != focal) {
                    throw new IllegalArgumentException(pd + " holds pseudo views of another seed or camera; delete it or use another output folder");
                }
            }
            Files.writeString(metaFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
            try (ProgressBar bar = new ProgressBar(log, "pseudo views", count)) {
                for (int i = 0; i < count; i++) {
                    Camera cam = new Camera(data.width(), data.height(), focal, poses.get(i));
                    Path f = pd.resolve(String.format("p_%05d.png", i));
                    if (!Files.isRegularFile(f)) {
                        try (NDManager sub = manager.newSubManager()) {
                            teacher.renderImage(sub, cam, 8192).writePng(f);
                        }
                    }
                    RgbImage img = RgbImage.read(f); // always the stored 8-bit image, so resumed runs see the same data
                    out.add(new StudentTask.Target(cam, img));
                    bar.step(i + 1);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
