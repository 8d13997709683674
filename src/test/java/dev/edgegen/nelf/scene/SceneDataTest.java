package dev.edgegen.nelf.scene;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Poses;
import dev.edgegen.nelf.RgbImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SceneDataTest {
    @TempDir Path tmp;

    static final SceneWriter.Options TINY = new SceneWriter.Options(4, 1, 2, 24, 20, 2, 4.0, 0.69, 7);

    Path writeTiny(String name) {
        Path dir = tmp.resolve(name);
        SceneWriter.write(Mesh.procedural(24), TINY, dir, i -> { });
        return dir;
    }

    @Test
    void writtenSceneLoadsBackWithPosesAndBounds() {
        Path dir = writeTiny("s");
        SceneDataset d = SceneDataset.load(dir);
        assertEquals(4, d.train().size());
        assertEquals(1, d.val().size());
        assertEquals(2, d.test().size());
        assertEquals(24, d.width());
        assertEquals(20, d.height());
        assertEquals(2.5, d.near(), 1e-9);
        assertEquals(5.5, d.far(), 1e-9);
        assertFalse(d.ndc());
        List<double[]> poses = Poses.hemisphere(4, 4.0, 0, 75, 7 * 31 + 1);
        for (int i = 0; i < 4; i++) {
            double[] a = d.train().get(i).camera().c2w();
            for (int k = 0; k < 16; k++) assertEquals(poses.get(i)[k], a[k], 1e-9);
        }
        RgbImage im = d.train().get(0).image();
        int centre = ((im.height() / 2) * im.width() + im.width() / 2) * 3;
        assertTrue(im.rgb()[centre] + im.rgb()[centre + 1] + im.rgb()[centre + 2] < 2.7, "object should cover the centre");
        assertEquals(3f, im.rgb()[0] + im.rgb()[1] + im.rgb()[2], 0.02f, "corner is white background");
        assertFalse(Files.exists(tmp.resolve("s.partial")));
    }

    @Test
    void rasterCoverageMatchesAnalyticRaySphereHits() {
        Mesh m = Mesh.procedural(64);
        // one unit sphere only: keep triangles of the first (banded) sphere, rebuilt at the origin
        List<float[]> v = new ArrayList<>();
        int seg = 96, rings = 48;
        for (int i = 0; i <= rings; i++) {
            for (int j = 0; j <= seg; j++) {
                double th = Math.PI * i / rings, ph = 2 * Math.PI * j / seg;
                v.add(new float[] {(float) (Math.sin(th) * Math.cos(ph)), (float) (Math.sin(th) * Math.sin(ph)), (float) Math.cos(th)});
            }
        }
        float[] pos = new float[v.size() * 3];
        for (int i = 0; i < v.size(); i++) System.arraycopy(v.get(i), 0, pos, 3 * i, 3);
        List<Integer> tris = new ArrayList<>();
        for (int i = 0; i < rings; i++) {
            for (int j = 0; j < seg; j++) {
                int a = i * (seg + 1) + j, b = a + seg + 1;
                tris.addAll(List.of(a, b, a + 1, a + 1, b, b + 1));
            }
        }
        int[] t = tris.stream().mapToInt(Integer::intValue).toArray();
        Mesh sphere = Mesh.build(pos, t, null, new int[t.length / 3], m.materials());
        Camera cam = new Camera(40, 30, 30, Poses.spherical(70, 25, 3.5));
        Rasterizer.Result res = new Rasterizer(sphere, 1).render(cam);
        Camera.Rays rays = cam.rays();
        int mismatch = 0, hits = 0;
        for (int p = 0; p < 40 * 30; p++) {
            double[] o = {rays.origins()[3 * p], rays.origins()[3 * p + 1], rays.origins()[3 * p + 2]};
            double[] d = {rays.directions()[3 * p], rays.directions()[3 * p + 1], rays.directions()[3 * p + 2]};
            double b = o[0] * d[0] + o[1] * d[1] + o[2] * d[2];
            double a = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            double c = o[0] * o[0] + o[1] * o[1] + o[2] * o[2] - 1;
            boolean hit = b * b - a * c > 0;
            if (hit) hits++;
            if (hit != res.alpha()[p] > 0.5f) mismatch++;
        }
        assertTrue(hits > 100, "sphere should fill part of the frame, hits=" + hits);
        assertTrue(mismatch <= 12, "raster coverage disagrees with ray casting at " + mismatch + " pixels");
    }

    @Test
    void specularShadingDependsOnViewpoint() {
        Mesh m = Mesh.procedural(48);
        Rasterizer r = new Rasterizer(m, 1);
        // the same surface point seen from two directions differs in colour only through the specular term
        Camera a = new Camera(31, 31, 40, Poses.spherical(10, 30, 4));
        Camera b = new Camera(31, 31, 40, Poses.spherical(10, 30, 6));
        float ca = r.render(a).image().rgb()[(15 * 31 + 15) * 3];
        float cb = r.render(b).image().rgb()[(15 * 31 + 15) * 3];
        assertEquals(ca, cb, 1e-3, "same ray direction to the same point must shade the same");
        Camera c = new Camera(31, 31, 40, Poses.spherical(60, 30, 4));
        assertTrue(Math.abs(ca - r.render(c).image().rgb()[(15 * 31 + 15) * 3]) > 1e-3);
    }

    @Test
    void loaderNamesFileAndFieldOfBadInput() throws Exception {
        Path dir = writeTiny("bad");
        Path val = dir.resolve("transforms_val.json");
        String good = Files.readString(val);

        Files.writeString(val, good.substring(0, good.length() / 2));
        var e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().startsWith("transforms_val.json: malformed JSON"), e.getMessage());

        Files.writeString(val, good.replace("camera_angle_x", "camera_angle"));
        e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().contains("transforms_val.json") && e.getMessage().contains("'camera_angle_x'"), e.getMessage());

        Files.writeString(val, good.replace("./val/r_0", "./val/r_9"));
        e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().contains("frames[0].file_path") && e.getMessage().contains("does not exist"), e.getMessage());

        Files.writeString(val, good.replaceFirst("\"transform_matrix\" : \\[ \\[ ([-0-9.E]+)", "\"transform_matrix\" : [ [ 3.0"));
        e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().contains("transforms_val.json: frames[0].transform_matrix") && e.getMessage().contains("rigid"), e.getMessage());

        Files.writeString(val, good);
        Files.delete(dir.resolve("transforms_test.json"));
        e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().contains("transforms_test.json: missing"), e.getMessage());
    }

    @Test
    void mixedImageSizesAreRejected() throws Exception {
        Path dir = writeTiny("mixed");
        javax.imageio.ImageIO.write(new BufferedImage(10, 10, BufferedImage.TYPE_INT_ARGB), "png", dir.resolve("val/r_0.png").toFile());
        var e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().contains("r_0.png is 10x10") && e.getMessage().contains("one size"), e.getMessage());
    }

    @Test
    void llffFolderLoadsWithNdcAndHoldout() throws Exception {
        Path dir = tmp.resolve("llff");
        Files.createDirectories(dir.resolve("images"));
        int n = 9;
        double[] data = new double[n * 17];
        for (int i = 0; i < n; i++) {
            // LLFF axes (down, right, back): identity rotation in (right, up, back) is [[0,1,0],[-1,0,0],[0,0,1]]
            double[][] m = {{0, 1, 0, 0.1 * i}, {-1, 0, 0, 0.05 * i}, {0, 0, 1, 0}};
            for (int r = 0; r < 3; r++) {
                System.arraycopy(m[r], 0, data, 17 * i + 5 * r, 4);
            }
            data[17 * i + 4] = 60;   // H
            data[17 * i + 9] = 80;   // W
            data[17 * i + 14] = 70;  // focal
            data[17 * i + 15] = 2;
            data[17 * i + 16] = 10;
            new RgbImage(16, 12, new float[16 * 12 * 3]).writePng(dir.resolve("images/img" + i + ".png"));
        }
        Npy.writeF8(dir.resolve("poses_bounds.npy"), n, 17, data);
        SceneDataset d = SceneDataset.load(dir);
        assertTrue(d.ndc());
        assertEquals(7, d.train().size());
        assertEquals(2, d.test().size()); // images 0 and 8
        assertEquals(70 * 16 / 80.0, d.focal(), 1e-9);
        double[] c = d.train().get(0).camera().c2w();
        assertEquals(1, c[0], 1e-9); // recentred rotation is the identity
        assertEquals(1, c[5], 1e-9);

        data[17 * 3 + 0] = 2; // scale in pose 3
        Npy.writeF8(dir.resolve("poses_bounds.npy"), n, 17, data);
        var e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().startsWith("poses_bounds.npy: row 3") && e.getMessage().contains("rigid"), e.getMessage());

        Npy.writeF8(dir.resolve("poses_bounds.npy"), n, 17, new double[n * 17]);
        Files.delete(dir.resolve("images/img4.png"));
        e = assertThrows(IllegalArgumentException.class, () -> SceneDataset.load(dir));
        assertTrue(e.getMessage().contains("8 images but poses_bounds.npy has 9 poses"), e.getMessage());
    }

    @Test
    void objParserTriangulatesAndNormalises() throws Exception {
        Path obj = tmp.resolve("q.obj");
        Files.writeString(obj, "v 0 0 0\nv 2 0 0\nv 2 2 0\nv 0 2 0\nf 1 2 3 4\nf -4 -2 -1\n");
        Mesh m = Mesh.readObj(obj);
        assertEquals(3, m.triangleCount());
        double maxR = 0;
        for (int i = 0; i < m.positions().length; i += 3) {
            maxR = Math.max(maxR, Math.sqrt(m.positions()[i] * m.positions()[i] + m.positions()[i + 1] * m.positions()[i + 1] + m.positions()[i + 2] * m.positions()[i + 2]));
        }
        assertEquals(1, maxR, 1e-6);
        Files.writeString(obj, "v 0 0 0\nf 1 2 3\n");
        var e = assertThrows(IllegalArgumentException.class, () -> Mesh.readObj(obj));
        assertTrue(e.getMessage().contains("q.obj:2"), e.getMessage());
    }
}
