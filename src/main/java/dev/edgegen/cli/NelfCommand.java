package dev.edgegen.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.nelf.Metrics;
import dev.edgegen.nelf.NelfModels;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nelf.scene.Mesh;
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.SceneWriter;
import dev.edgegen.nelf.scene.View;
import dev.edgegen.nelf.teacher.TeacherConfig;
import dev.edgegen.nelf.teacher.TeacherTask;
import dev.edgegen.nelf.teacher.VoxelNeRF;
import dev.edgegen.train.TrainProgress;
import dev.edgegen.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code edgegen nelf …}: built-in scenes, NeRF teacher, MobileR2L student distillation, evaluation, rendering, benchmarks. */
@Command(name = "nelf", mixinStandardHelpOptions = true,
        description = "Real-time neural light fields (MobileR2L): scenes, teacher, distillation, eval, render, bench.",
        subcommands = {NelfCommand.Scene.class, NelfCommand.Teacher.class, NelfStudentCommands.Distill.class,
                NelfStudentCommands.Eval.class, NelfStudentCommands.Render.class, NelfStudentCommands.Bench.class})
public final class NelfCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /** Resolves a built-in mesh name (bunny, spider, house, blob) or an .obj path, fetching meshes if needed. */
    static Mesh mesh(String name) throws Exception {
        if (name.equals("blob")) return Mesh.procedural(96);
        Path home = ModelOption.home();
        Path p = switch (name) {
            case "bunny" -> home.resolve("data/meshes/bunny.obj");
            case "spider" -> home.resolve("data/meshes/spider/spider.obj");
            case "house" -> home.resolve("data/meshes/house/regr01.obj");
            default -> Path.of(name);
        };
        if (!Files.isRegularFile(p) && p.startsWith(home.resolve("data"))) {
            Path script = home.resolve("scripts/fetch-meshes.sh");
            if (!Files.isRegularFile(script)) {
                throw new IllegalArgumentException(p + " missing; run scripts/fetch-meshes.sh from the repository root");
            }
            int rc = new ProcessBuilder("bash", script.toString()).directory(home.toFile()).inheritIO().start().waitFor();
            if (rc != 0) throw new IllegalStateException("scripts/fetch-meshes.sh failed with exit code " + rc);
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("unknown mesh '" + name + "': use bunny, spider, house, blob or a path to an .obj file");
        }
        return Mesh.readObj(p);
    }

    @Command(name = "scene", mixinStandardHelpOptions = true,
            description = "Render a built-in mesh into a NeRF-synthetic dataset folder (train/val/test views on a hemisphere).")
    static final class Scene implements Callable<Integer> {
        @Option(names = "--mesh", defaultValue = "bunny", description = "bunny, spider, house, blob or an .obj path (default ${DEFAULT-VALUE})") String mesh;
        @Option(names = {"-o", "--output"}, required = true, description = "output folder (must not exist)") Path out;
        @Option(names = {"-W", "--width"}, defaultValue = "400") int width;
        @Option(names = {"-H", "--height"}, defaultValue = "400") int height;
        @Option(names = "--train", defaultValue = "100") int train;
        @Option(names = "--val", defaultValue = "20") int val;
        @Option(names = "--test", defaultValue = "50") int test;
        @Option(names = "--supersample", defaultValue = "3", description = "anti-aliasing: s x s samples per pixel") int ss;
        @Option(names = "--seed", defaultValue = "0") long seed;

        @Override
        public Integer call() throws Exception {
            SceneWriter.Options d = SceneWriter.Options.defaults();
            SceneWriter.Options o = new SceneWriter.Options(train, val, test, width, height, ss, d.radius(), d.cameraAngleX(), seed);
            Mesh m = mesh(mesh);
            try (ProgressBar bar = new ProgressBar(System.out, "scene " + mesh, train + val + test)) {
                SceneWriter.write(m, o, out, bar::step);
            }
            System.out.println("wrote " + out + " (" + m.triangleCount() + " triangles)");
            return 0;
        }
    }

    @Command(name = "teacher", mixinStandardHelpOptions = true,
            description = "Train the voxel-grid NeRF teacher on a scene's training views; report test PSNR/SSIM and render time.")
    static final class Teacher implements Callable<Integer> {
        @Option(names = "--data", required = true, description = "scene folder (NeRF-synthetic or LLFF)") Path data;
        @Option(names = {"-o", "--output"}, required = true, description = "model folder (checkpoint.safetensors, log.jsonl, loss.png, teacher.json)") Path out;
        @Option(names = "--steps", defaultValue = "3000") int steps;
        @Option(names = "--batch-rays", defaultValue = "4096") int batch;
        @Option(names = "--grid", defaultValue = "96", description = "voxels per axis") int grid;
        @Option(names = "--features", defaultValue = "12") int features;
        @Option(names = "--bound", description = "half-size of the scene box (default 1.1 for built-in scenes, 1.0 in NDC; NeRF-synthetic lego etc. need 1.5)") Double bound;
        @Option(names = "--step-voxels", defaultValue = "0.6", description = "sample spacing in voxels") double stepVoxels;
        @Option(names = "--lr-grid", defaultValue = "0.1") double lrGrid;
        @Option(names = "--lr-mlp", defaultValue = "0.002") double lrMlp;
        @Option(names = "--checkpoint-every", defaultValue = "500") int every;
        @Option(names = "--seed", defaultValue = "0") long seed;
        @Option(names = "--resume", description = "continue from OUTPUT/checkpoint.safetensors (if there is one)") boolean resume;
        @Option(names = "--eval-views", defaultValue = "0", description = "test views to evaluate (0 = all)") int evalViews;

        @Override
        public Integer call() throws Exception {
            SceneDataset d = SceneDataset.load(data);
            TeacherConfig def = TeacherConfig.defaults(d.near(), d.far(), d.ndc());
            TeacherConfig cfg = new TeacherConfig(grid, features, def.hidden(), def.viewFreqs(), bound == null ? def.bound() : bound,
                    stepVoxels, d.near(), d.far(), d.ndc());
            TeacherTask.Options opt = new TeacherTask.Options(steps, batch, lrGrid, lrMlp, every,
                    TeacherTask.Options.defaults().occupancyEvery(), TeacherTask.Options.defaults().occupancyWarmup(), seed);
            boolean cont = resuming(out, resume);
            try (NDManager m = NDManager.newBaseManager()) {
                VoxelNeRF model = new VoxelNeRF(cfg);
                model.initialize(m, seed);
                TeacherTask task = new TeacherTask(model, d, opt);
                Trainer.Result r;
                try (TrainProgress bar = new TrainProgress(System.out, "teacher",
                        info -> String.format(Locale.ROOT, "psnr %.2f  %s", -10 * Math.log10(info.loss()), task.status()))) {
                    r = task.trainer(out, m).run(task, cont, bar, true);
                }
                if (r.stopped()) {
                    System.out.println("teacher stopped at step " + r.stepsDone() + "; continue with --resume");
                    return 0;
                }
                model.updateOccupancy(VoxelNeRF.OCCUPANCY_ALPHA);
                ObjectNode report = evalTeacher(m, model, d, evalViews, out.resolve("teacher-test"));
                report.put("data", data.toString());
                report.put("steps", steps);
                Files.writeString(out.resolve("teacher.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
                System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report.without("views")));
            }
            return 0;
        }
    }

    /**
     * Whether a training run in {@code dir} continues from its checkpoint: an existing checkpoint
     * needs --resume; --resume without one starts afresh (unless an old-format model is there).
     */
    static boolean resuming(Path dir, boolean resume) {
        Path ckpt = Trainer.checkpointOf(dir);
        if (Files.exists(ckpt)) {
            if (!resume) throw new IllegalArgumentException(ckpt + " exists: pass --resume to continue it or choose another folder");
            return true;
        }
        if (resume) NelfModels.refuseOldFormat(dir);
        return false;
    }

    static ObjectNode evalTeacher(NDManager m, VoxelNeRF model, SceneDataset d, int limit, Path imagesDir) {
        ObjectNode r = JSON.createObjectNode();
        r.put("model", "teacher (voxel grid " + model.config.grid() + "^3 x " + (1 + model.config.features()) + " + MLP)");
        r.put("parameters", model.parameterCount());
        r.put("size_mb", model.sizeBytes() / 1e6);
        return scoreTestViews(r, "teacher", d, limit, imagesDir, camera -> model.renderImage(m, camera, 8192));
    }

    /**
     * Renders the first {@code limit} test views (all if ≤ 0) with {@code render} and adds per-view
     * and mean PSNR, SSIM and milliseconds to {@code r}; the first four frames go to {@code imagesDir}.
     */
    static ObjectNode scoreTestViews(ObjectNode r, String who, SceneDataset d, int limit, Path imagesDir,
                                     java.util.function.Function<dev.edgegen.nelf.Camera, RgbImage> render) {
        ArrayNode views = r.putArray("views");
        double sp = 0, ss = 0, ms = 0;
        int n = limit <= 0 ? d.test().size() : Math.min(limit, d.test().size());
        for (int i = 0; i < n; i++) {
            View v = d.test().get(i);
            long t0 = System.nanoTime();
            RgbImage img = render.apply(v.camera());
            double t = (System.nanoTime() - t0) / 1e6;
            double p = Metrics.psnr(img, v.image()), q = Metrics.ssim(img, v.image());
            if (imagesDir != null && i < 4) img.writePng(imagesDir.resolve("test_" + i + ".png"));
            ObjectNode o = views.addObject();
            o.put("view", v.file());
            o.put("psnr", p);
            o.put("ssim", q);
            o.put("ms", t);
            sp += p;
            ss += q;
            ms += t;
        }
        r.put("test_views", n);
        r.put("psnr_mean", sp / n);
        r.put("ssim_mean", ss / n);
        r.put("ms_per_frame_mean", ms / n);
        r.put("resolution", d.width() + "x" + d.height());
        System.out.printf(Locale.ROOT, "%s: PSNR %.2f dB  SSIM %.4f  %.1f ms/frame at %dx%d over %d test views%n",
                who, sp / n, ss / n, ms / n, d.width(), d.height(), n);
        return r;
    }
}
