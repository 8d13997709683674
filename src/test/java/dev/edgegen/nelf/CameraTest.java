package dev.edgegen.nelf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CameraTest {
    @Test
    void centreRayFollowsMinusZAndFocalFromAngle() {
        double[] c2w = Poses.spherical(30, 20, 4);
        Camera cam = Camera.fromAngleX(5, 5, Math.toRadians(90), c2w);
        assertEquals(2.5, cam.focal(), 1e-9); // 0.5 * 5 / tan(45°)
        Camera.Rays r = cam.rays();
        int p = (2 * 5 + 2) * 3;
        for (int k = 0; k < 3; k++) {
            assertEquals(-c2w[4 * k + 2], r.directions()[p + k], 1e-6);
            assertEquals(c2w[4 * k + 3], r.origins()[p + k], 1e-6);
        }
        // the camera looks at the origin: the centre ray passes within 1e-5 of it
        double t = 4.0;
        for (int k = 0; k < 3; k++) assertEquals(0, r.origins()[p + k] + t * r.directions()[p + k], 1e-5);
        // top-left pixel points up-left in camera space: +y camera component, -x component
        double x = 0, y = 0;
        for (int k = 0; k < 3; k++) {
            x += r.directions()[k] * c2w[4 * k];
            y += r.directions()[k] * c2w[4 * k + 1];
        }
        assertTrue(x < 0 && y > 0, "top-left ray should point left and up, got x=" + x + " y=" + y);
    }

    @Test
    void rejectsNonRigidPoses() {
        double[] m = Poses.spherical(0, 0, 3);
        for (int r = 0; r < 3; r++) m[4 * r] *= 2; // scale one axis
        var e = assertThrows(IllegalArgumentException.class, () -> new Camera(4, 4, 4, m));
        assertTrue(e.getMessage().contains("not a rigid transform"), e.getMessage());
        double[] refl = Poses.spherical(0, 0, 3);
        for (int r = 0; r < 3; r++) refl[4 * r] = -refl[4 * r];
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Camera(4, 4, 4, refl)).getMessage().contains("reflection"));
        double[] row = Poses.spherical(0, 0, 3);
        row[14] = 0.5;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Camera(4, 4, 4, row)).getMessage().contains("last row"));
        assertThrows(IllegalArgumentException.class, () -> Camera.fromAngleX(4, 4, 0, Poses.spherical(0, 0, 3)));
    }

    @Test
    void ndcRaysStartOnNearPlaneAndReachInfinityAtOne() {
        double[] c2w = {1, 0, 0, 0.1, 0, 1, 0, -0.2, 0, 0, 1, 0.3, 0, 0, 0, 1};
        Camera cam = new Camera(8, 6, 7, c2w);
        Camera.Rays ndc = cam.ndcRays(1.0);
        Camera.Rays world = cam.rays();
        for (int p = 0; p < 48; p++) {
            assertEquals(-1, ndc.origins()[3 * p + 2], 1e-5);
            assertEquals(1, ndc.origins()[3 * p + 2] + ndc.directions()[3 * p + 2], 1e-5);
            // a world point at depth 5 along the ray maps to NDC x = -f/(W/2) * x/z
            double t = 5, wx = world.origins()[3 * p] + t * world.directions()[3 * p];
            double wz = world.origins()[3 * p + 2] + t * world.directions()[3 * p + 2];
            double ndcX = -7 / 4.0 * wx / wz;
            double ndcZ = 1 + 2 * 1.0 / wz;
            double s = (ndcZ - ndc.origins()[3 * p + 2]) / ndc.directions()[3 * p + 2];
            assertEquals(ndcX, ndc.origins()[3 * p] + s * ndc.directions()[3 * p], 1e-4);
        }
    }
}
