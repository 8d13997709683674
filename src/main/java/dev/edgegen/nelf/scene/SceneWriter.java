package dev.edgegen.nelf.scene;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Poses;
import dev.edgegen.nelf.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Renders a {@link Mesh} into a NeRF-synthetic folder: {@code transforms_{train,val,test}.json}
 * plus RGBA PNGs {@code train/r_i.png}. Cameras sit on the upper hemisphere (elevation 0–75°) at
 * {@code radius}, looking at the origin; each split uses its own spiral so test poses are new.
 * The folder is written under a temporary name and renamed when complete.
 */
public final class SceneWriter {
    /** Views per split, image size, supersampling, camera distance and field of view. */
    public record Options(int train, int val, int test, int width, int height, int supersample,
                          double radius, double cameraAngleX, long seed) {
        public Options {
            if (train < 1 || val < 0 || test < 1) throw new IllegalArgumentException("need >= 1 train and test view and >= 0 val views");
            if (width < 8 || height < 8) throw new IllegalArgumentException("image size must be at least 8x8, got " + width + "x" + height);
            if (radius <= 1.2) throw new IllegalArgumentException("camera radius must exceed 1.2 (the object fills the unit sphere), got " + radius);
        }

        public static Options defaults() {
            return new Options(100, 20, 50, 400, 400, 3, 4.0, 0.6911112070083618, 0);
        }

        public double near() { return radius - 1.5; }

        public double far() { return radius + 1.5; }
    }

    private SceneWriter() {}

    public static void write(Mesh mesh, Options o, Path dir, IntConsumer progress) {
        Path abs = dir.toAbsolutePath();
        if (Files.exists(abs)) throw new IllegalArgumentException(abs + ": already exists; choose a new output folder");
        Path tmp = abs.resolveSibling(abs.getFileName() + ".partial");
        Rasterizer r = new Rasterizer(mesh, o.supersample());
        ObjectMapper json = new ObjectMapper();
        int done = 0;
        try {
            deleteRecursively(tmp);
            String[] splits = {"train", "val", "test"};
            int[] counts = {o.train(), o.val(), o.test()};
            for (int s = 0; s < 3; s++) {
                Files.createDirectories(tmp.resolve(splits[s]));
                List<double[]> poses = Poses.hemisphere(counts[s], o.radius(), 0, 75, o.seed() * 31 + s + 1);
                ObjectNode root = json.createObjectNode();
                root.put("camera_angle_x", o.cameraAngleX());
                root.put("near", o.near());
                root.put("far", o.far());
                ArrayNode frames = root.putArray("frames");
                for (int i = 0; i < counts[s]; i++) {
                    double[] m = poses.get(i);
                    Camera cam = Camera.fromAngleX(o.width(), o.height(), o.cameraAngleX(), m);
                    Rasterizer.Result res = r.render(cam);
                    writeRgba(res, tmp.resolve(splits[s]).resolve("r_" + i + ".png"));
                    ObjectNode f = frames.addObject();
                    f.put("file_path", "./" + splits[s] + "/r_" + i);
                    ArrayNode mat = f.putArray("transform_matrix");
                    for (int row = 0; row < 4; row++) {
                        ArrayNode rr = mat.addArray();
                        for (int c = 0; c < 4; c++) rr.add(m[4 * row + c]);
                    }
                    progress.accept(++done);
                }
                json.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("transforms_" + splits[s] + ".json").toFile(), root);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeRgba(Rasterizer.Result res, Path file) throws IOException {
        RgbImage im = res.image();
        BufferedImage img = new BufferedImage(im.width(), im.height(), BufferedImage.TYPE_INT_ARGB);
        for (int p = 0; p < im.width() * im.height(); p++) {
            float a = res.alpha()[p];
            int argb = RgbImage.byte8(a) << 24;
            for (int c = 0; c < 3; c++) {
                // un-premultiply: stored colour s.t. colour * a + (1 - a) = composited value
                float v = a > 1e-6f ? (im.rgb()[3 * p + c] - (1 - a)) / a : 1f;
                argb |= RgbImage.byte8(v) << (16 - 8 * c);
            }
            img.setRGB(p % im.width(), p / im.width(), argb);
        }
        javax.imageio.ImageIO.write(img, "png", file.toFile());
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
