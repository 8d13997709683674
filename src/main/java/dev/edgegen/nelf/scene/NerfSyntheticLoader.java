package dev.edgegen.nelf.scene;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The NeRF-synthetic ("Blender") layout: {@code transforms_{train,val,test}.json} with
 * {@code camera_angle_x} and {@code frames[].file_path} / {@code frames[].transform_matrix} (4x4
 * camera-to-world), RGBA PNGs composited on white. Optional {@code near} / {@code far} fields
 * (our scene writer adds them) override the usual bounds 2 and 6.
 */
public final class NerfSyntheticLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private NerfSyntheticLoader() {}

    public static SceneDataset load(Path dir) {
        Size size = new Size();
        double[] bounds = {2, 6};
        List<View> train = split(dir, "train", size, bounds);
        List<View> val = split(dir, "val", size, bounds);
        List<View> test = split(dir, "test", size, bounds);
        return new SceneDataset(dir.getFileName().toString(), train, val, test, bounds[0], bounds[1], false);
    }

    private static final class Size {
        int w = -1, h = -1;
        String first;
    }

    private static List<View> split(Path dir, String split, Size size, double[] bounds) {
        Path file = dir.resolve("transforms_" + split + ".json");
        String name = file.getFileName().toString();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": missing (a NeRF-synthetic scene needs transforms_train.json,"
                    + " transforms_val.json and transforms_test.json)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": malformed JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(name + ": top level must be a JSON object");
        double angle = number(root, "camera_angle_x", name);
        if (root.has("near")) bounds[0] = number(root, "near", name);
        if (root.has("far")) bounds[1] = number(root, "far", name);
        JsonNode frames = root.get("frames");
        if (frames == null || !frames.isArray()) {
            throw new IllegalArgumentException(name + ": field 'frames' is missing or not an array");
        }
        if (frames.isEmpty() && !split.equals("val")) throw new IllegalArgumentException(name + ": field 'frames' is empty");
        List<View> views = new ArrayList<>();
        for (int i = 0; i < frames.size(); i++) {
            JsonNode f = frames.get(i);
            String where = name + ": frames[" + i + "]";
            JsonNode fp = f.get("file_path");
            if (fp == null || !fp.isTextual() || fp.asText().isEmpty()) {
                throw new IllegalArgumentException(where + ".file_path is missing or not a string");
            }
            double[] m = matrix(f.get("transform_matrix"), where + ".transform_matrix");
            Path img = resolve(dir, fp.asText());
            if (!Files.isRegularFile(img)) {
                throw new IllegalArgumentException(where + ".file_path: image " + img + " does not exist");
            }
            RgbImage image = RgbImage.read(img);
            if (size.w < 0) {
                size.w = image.width();
                size.h = image.height();
                size.first = img.toString();
            } else if (size.w != image.width() || size.h != image.height()) {
                throw new IllegalArgumentException(where + ".file_path: image " + img + " is " + image.width() + "x"
                        + image.height() + " but " + size.first + " is " + size.w + "x" + size.h + " (all images of a scene must have one size)");
            }
            Camera cam;
            try {
                cam = Camera.fromAngleX(image.width(), image.height(), angle, m);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ".transform_matrix: " + e.getMessage(), e);
            }
            views.add(new View(cam, image, img.toString()));
        }
        return views;
    }

    private static Path resolve(Path dir, String filePath) {
        Path p = dir.resolve(filePath).normalize();
        if (filePath.matches(".*\\.(png|PNG|jpg|jpeg|JPG)$")) return p;
        return p.resolveSibling(p.getFileName() + ".png");
    }

    private static double number(JsonNode root, String field, String name) {
        JsonNode n = root.get(field);
        if (n == null || !n.isNumber()) throw new IllegalArgumentException(name + ": field '" + field + "' is missing or not a number");
        return n.asDouble();
    }

    private static double[] matrix(JsonNode n, String where) {
        if (n == null || !n.isArray() || n.size() != 4) {
            throw new IllegalArgumentException(where + " must be a 4x4 array of numbers");
        }
        double[] m = new double[16];
        for (int r = 0; r < 4; r++) {
            JsonNode row = n.get(r);
            if (!row.isArray() || row.size() != 4) throw new IllegalArgumentException(where + "[" + r + "] must be an array of 4 numbers");
            for (int c = 0; c < 4; c++) {
                if (!row.get(c).isNumber()) throw new IllegalArgumentException(where + "[" + r + "][" + c + "] is not a number");
                m[4 * r + c] = row.get(c).asDouble();
            }
        }
        return m;
    }
}
