package dev.edgegen.nelf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgegen.nelf.scene.Mesh;
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.SceneWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DistillerTest {
    @TempDir Path tmp;

    @Test
    void pseudoPosesAreNewSeededAndOnTheTrainingShell() {
        Path dir = tmp.resolve("s");
        SceneWriter.write(Mesh.procedural(12), new SceneWriter.Options(6, 0, 1, 16, 16, 1, 4.0, 0.69, 2), dir, i -> { });
        SceneDataset d = SceneDataset.load(dir);
        List<double[]> a = Distiller.pseudoPoses(d, 50, 9), b = Distiller.pseudoPoses(d, 80, 9);
        for (int i = 0; i < 50; i++) assertEquals(java.util.Arrays.toString(a.get(i)), java.util.Arrays.toString(b.get(i)), "prefix must not depend on count");
        double elMin = 90, elMax = -90;
        for (var v : d.train()) {
            double[] o = v.camera().origin();
            double el = Math.toDegrees(Math.asin(o[2] / 4.0));
            elMin = Math.min(elMin, el);
            elMax = Math.max(elMax, el);
        }
        for (double[] m : a) {
            Poses.requireRigid(m, "pseudo pose");
            double r = Math.sqrt(m[3] * m[3] + m[7] * m[7] + m[11] * m[11]);
            assertEquals(4.0, r, 1e-6);
            double el = Math.toDegrees(Math.asin(m[11] / r));
            assertTrue(el >= elMin - 1e-6 && el <= elMax + 1e-6, "elevation " + el + " outside the training range");
            for (var v : d.train()) {
                double[] o = v.camera().origin();
                double dist = Math.hypot(Math.hypot(o[0] - m[3], o[1] - m[7]), o[2] - m[11]);
                assertTrue(dist > 1e-6, "pseudo pose repeats a training pose");
            }
        }
        assertTrue(!java.util.Arrays.equals(a.get(0), Distiller.pseudoPoses(d, 1, 10).get(0)), "another seed gives other poses");
    }
}
