package dev.edgegen.nelf.scene;

import dev.edgegen.nelf.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A triangle mesh normalised to the unit sphere, z up: positions and smooth normals per vertex
 * (x, y, z triples), optional texture coordinates per triangle corner, a material per triangle.
 */
public record Mesh(float[] positions, float[] normals, int[] triangles, float[] cornerUv,
                   int[] triangleMaterial, List<Material> materials) {

    /** A diffuse colour, an optional texture (multiplied in) and a specular strength. */
    public record Material(String name, float[] kd, RgbImage texture, float specular, float shininess) {}

    public int triangleCount() { return triangles.length / 3; }

    /** Reads a Wavefront OBJ (v, vt, f with polygon fans, usemtl, mtllib with Kd / map_Kd); y-up files are turned z-up. */
    public static Mesh readObj(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read mesh (" + e.getMessage() + ")", e);
        }
        List<float[]> v = new ArrayList<>();
        List<float[]> vt = new ArrayList<>();
        List<Integer> tris = new ArrayList<>();
        List<float[]> uvs = new ArrayList<>();
        List<Integer> triMat = new ArrayList<>();
        List<Material> mats = new ArrayList<>();
        Map<String, Integer> matIndex = new HashMap<>();
        Map<String, Material> library = new HashMap<>();
        int current = -1;
        boolean anyUv = false;
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln).trim();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] t = line.split("\\s+");
            try {
                switch (t[0]) {
                    case "v" -> v.add(new float[] {Float.parseFloat(t[1]), Float.parseFloat(t[2]), Float.parseFloat(t[3])});
                    case "vt" -> vt.add(new float[] {Float.parseFloat(t[1]), t.length > 2 ? Float.parseFloat(t[2]) : 0});
                    case "mtllib" -> library.putAll(readMtl(file.resolveSibling(line.substring(7).trim())));
                    case "usemtl" -> {
                        String name = t.length > 1 ? t[1] : "";
                        current = matIndex.computeIfAbsent(name, k -> {
                            mats.add(library.getOrDefault(k, new Material(k, new float[] {0.8f, 0.8f, 0.8f}, null, 0.5f, 32)));
                            return mats.size() - 1;
                        });
                    }
                    case "f" -> {
                        int n = t.length - 1;
                        int[] pi = new int[n];
                        float[][] uv = new float[n][];
                        for (int k = 0; k < n; k++) {
                            String[] parts = t[k + 1].split("/");
                            pi[k] = index(parts[0], v.size());
                            if (parts.length > 1 && !parts[1].isEmpty()) {
                                uv[k] = vt.get(index(parts[1], vt.size()));
                                anyUv = true;
                            } else {
                                uv[k] = new float[] {0, 0};
                            }
                        }
                        if (current < 0) {
                            current = matIndex.computeIfAbsent("", k -> {
                                mats.add(new Material("default", new float[] {0.8f, 0.8f, 0.8f}, null, 0.5f, 32));
                                return mats.size() - 1;
                            });
                        }
                        for (int k = 1; k + 1 < n; k++) {
                            tris.add(pi[0]);
                            tris.add(pi[k]);
                            tris.add(pi[k + 1]);
                            uvs.add(uv[0]);
                            uvs.add(uv[k]);
                            uvs.add(uv[k + 1]);
                            triMat.add(current);
                        }
                    }
                    default -> { }
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ":" + (ln + 1) + ": cannot parse '" + line + "' (" + e + ")", e);
            }
        }
        if (tris.isEmpty()) throw new IllegalArgumentException(file + ": no faces");
        float[] pos = new float[v.size() * 3];
        for (int i = 0; i < v.size(); i++) {
            float[] p = v.get(i);
            pos[3 * i] = p[0];
            pos[3 * i + 1] = -p[2];
            pos[3 * i + 2] = p[1];
        }
        float[] cornerUv = null;
        if (anyUv) {
            cornerUv = new float[uvs.size() * 2];
            for (int i = 0; i < uvs.size(); i++) {
                cornerUv[2 * i] = uvs.get(i)[0];
                cornerUv[2 * i + 1] = uvs.get(i)[1];
            }
        }
        return build(pos, tris.stream().mapToInt(Integer::intValue).toArray(), cornerUv,
                triMat.stream().mapToInt(Integer::intValue).toArray(), mats);
    }

    private static int index(String s, int count) {
        int i = Integer.parseInt(s);
        int r = i < 0 ? count + i : i - 1;
        if (r < 0 || r >= count) throw new IllegalArgumentException("index " + i + " out of range 1.." + count);
        return r;
    }

    private static Map<String, Material> readMtl(Path file) {
        Map<String, Material> out = new HashMap<>();
        if (!Files.isRegularFile(file)) return out;
        List<String> lines;
        try {
            lines = Files.readAllLines(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read material library (" + e.getMessage() + ")", e);
        }
        String name = null;
        float[] kd = {0.8f, 0.8f, 0.8f};
        RgbImage tex = null;
        for (String raw : lines) {
            String line = raw.trim();
            String[] t = line.split("\\s+");
            if (t[0].equals("newmtl")) {
                if (name != null) out.put(name, new Material(name, kd, tex, 0.5f, 32));
                name = t.length > 1 ? t[1] : "";
                kd = new float[] {0.8f, 0.8f, 0.8f};
                tex = null;
            } else if (t[0].equals("Kd") && t.length >= 4) {
                kd = new float[] {Float.parseFloat(t[1]), Float.parseFloat(t[2]), Float.parseFloat(t[3])};
            } else if (t[0].equals("map_Kd") && t.length >= 2) {
                String p = line.substring(6).trim().replace('\\', '/');
                Path tp = file.resolveSibling(p).normalize();
                if (Files.isRegularFile(tp)) tex = RgbImage.read(tp);
            }
        }
        if (name != null) out.put(name, new Material(name, kd, tex, 0.5f, 32));
        return out;
    }

    /** Centres the mesh on its bounding box, scales it into the unit sphere, computes smooth normals. */
    static Mesh build(float[] pos, int[] tris, float[] cornerUv, int[] triMat, List<Material> mats) {
        float[] lo = {Float.MAX_VALUE, Float.MAX_VALUE, Float.MAX_VALUE}, hi = {-Float.MAX_VALUE, -Float.MAX_VALUE, -Float.MAX_VALUE};
        for (int t : tris) {
            for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], pos[3 * t + a]);
                hi[a] = Math.max(hi[a], pos[3 * t + a]);
            }
        }
        float[] c = {(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2};
        double r = 0;
        for (int t : tris) {
            double dx = pos[3 * t] - c[0], dy = pos[3 * t + 1] - c[1], dz = pos[3 * t + 2] - c[2];
            r = Math.max(r, Math.sqrt(dx * dx + dy * dy + dz * dz));
        }
        float s = (float) (1 / r);
        float[] p = new float[pos.length];
        for (int i = 0; i < pos.length; i++) p[i] = (pos[i] - c[i % 3]) * s;
        float[] n = new float[pos.length];
        for (int k = 0; k < tris.length; k += 3) {
            int a = tris[k], b = tris[k + 1], d = tris[k + 2];
            float ux = p[3 * b] - p[3 * a], uy = p[3 * b + 1] - p[3 * a + 1], uz = p[3 * b + 2] - p[3 * a + 2];
            float vx = p[3 * d] - p[3 * a], vy = p[3 * d + 1] - p[3 * a + 1], vz = p[3 * d + 2] - p[3 * a + 2];
            float nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
            for (int q : new int[] {a, b, d}) {
                n[3 * q] += nx;
                n[3 * q + 1] += ny;
                n[3 * q + 2] += nz;
            }
        }
        for (int i = 0; i < n.length; i += 3) {
            float len = (float) Math.sqrt(n[i] * n[i] + n[i + 1] * n[i + 1] + n[i + 2] * n[i + 2]);
            if (len > 0) {
                n[i] /= len;
                n[i + 1] /= len;
                n[i + 2] /= len;
            }
        }
        return new Mesh(p, n, tris, cornerUv, triMat, List.copyOf(mats));
    }

    /**
     * A procedural test object: a UV sphere with latitude colour bands and a smaller offset
     * sphere, so views differ in silhouette and colour (no files needed).
     */
    public static Mesh procedural(int segments) {
        List<float[]> v = new ArrayList<>();
        List<Integer> tris = new ArrayList<>();
        List<Integer> triMat = new ArrayList<>();
        sphere(v, tris, triMat, segments, new float[] {-0.25f, 0, 0}, 0.7f, true);
        sphere(v, tris, triMat, segments / 2, new float[] {0.55f, 0.1f, 0.35f}, 0.35f, false);
        float[] pos = new float[v.size() * 3];
        for (int i = 0; i < v.size(); i++) System.arraycopy(v.get(i), 0, pos, 3 * i, 3);
        List<Material> mats = List.of(
                new Material("red", new float[] {0.85f, 0.2f, 0.15f}, null, 0.6f, 32),
                new Material("blue", new float[] {0.15f, 0.3f, 0.85f}, null, 0.6f, 32),
                new Material("green", new float[] {0.2f, 0.75f, 0.25f}, null, 0.6f, 32));
        return build(pos, tris.stream().mapToInt(Integer::intValue).toArray(), null,
                triMat.stream().mapToInt(Integer::intValue).toArray(), mats);
    }

    private static void sphere(List<float[]> v, List<Integer> tris, List<Integer> triMat, int seg, float[] c, float r, boolean bands) {
        int base = v.size();
        int rings = seg / 2;
        for (int i = 0; i <= rings; i++) {
            double th = Math.PI * i / rings;
            for (int j = 0; j <= seg; j++) {
                double ph = 2 * Math.PI * j / seg;
                v.add(new float[] {c[0] + r * (float) (Math.sin(th) * Math.cos(ph)), c[1] + r * (float) (Math.sin(th) * Math.sin(ph)), c[2] + r * (float) Math.cos(th)});
            }
        }
        for (int i = 0; i < rings; i++) {
            for (int j = 0; j < seg; j++) {
                int a = base + i * (seg + 1) + j, b = a + seg + 1;
                int m = bands ? (i * 4 / rings) % 2 : 2;
                tris.add(a); tris.add(b); tris.add(a + 1); triMat.add(m);
                tris.add(a + 1); tris.add(b); tris.add(b + 1); triMat.add(m);
            }
        }
    }
}
