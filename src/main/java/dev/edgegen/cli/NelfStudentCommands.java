package dev.edgegen.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.nelf.Camera;
import dev.edgegen.nelf.Distiller;
import dev.edgegen.nelf.Metrics;
import dev.edgegen.nelf.NelfModels;
import dev.edgegen.nelf.Poses;
import dev.edgegen.nelf.RgbImage;
import dev.edgegen.nelf.scene.SceneDataset;
import dev.edgegen.nelf.scene.View;
import dev.edgegen.nelf.student.MobileR2L;
import dev.edgegen.nelf.student.RayEncoder;
import dev.edgegen.nelf.student.StudentConfig;
import dev.edgegen.nelf.student.StudentTask;
import dev.edgegen.nelf.teacher.VoxelNeRF;
import dev.edgegen.nn.Module;
import dev.edgegen.train.TrainProgress;
import dev.edgegen.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The student-side subcommands of {@link NelfCommand}: distill, eval, render, bench. */
final class NelfStudentCommands {
    private NelfStudentCommands() {}

    static Path dataOf(Path teacherDir, Path data) throws Exception {
        if (data != null) return data;
        Path report = teacherDir.resolve("teacher.json");
        if (Files.isRegularFile(report)) return Path.of(NelfCommand.JSON.readTree(report.toFile()).path("data").asText());
        throw new IllegalArgumentException("pass --data: " + report + " (which names the scene) does not exist");
    }

    @Command(name = "distill", mixinStandardHelpOptions = true,
            description = "Distil a MobileR2L student from a trained teacher: pseudo views, then fine-tuning on the real views.")
    static final class Distill implements Callable<Integer> {
        @Option(names = "--teacher", required = true, description = "teacher folder (its checkpoint.safetensors)") Path teacher;
        @Option(names = "--data", description = "scene folder (default: the one in TEACHER/teacher.json)") Path data;
        @Option(names = {"-o", "--output"}, required = true, description = "student folder (checkpoint.safetensors, log.jsonl, loss.png, pseudo/, student.json)") Path out;
        @Option(names = "--pseudo", defaultValue = "2000", description = "teacher-rendered pseudo views") int pseudo;
        @Option(names = "--preset", defaultValue = "fast", description = "paper (256x28), small (128x8), fast (96x6, compact head; the default, docs/results/nelf.md) or tiny") String preset;
        @Option(names = "--width", description = "override body width") Integer width;
        @Option(names = "--blocks", description = "override residual blocks") Integer blocks;
        @Option(names = "--head-channels", split = ",", description = "override head channels, one per upsampling stage (e.g. 64,64,16)") int[] headChannels;
        @Option(names = "--compact-head", negatable = true, description = "override: non-overlapping head kernels (--no-compact-head: the paper's overlapping 4x4)") Boolean compactHead;
        @Option(names = "--distill-steps", defaultValue = "15000", description = "steps on the pseudo views") int distillSteps;
        @Option(names = "--finetune-steps", defaultValue = "2000", description = "steps on the real training views") int finetuneSteps;
        @Option(names = "--lr", defaultValue = "0.001", description = "peak learning rate (Adam, cosine decay to 5%%)") double lr;
        @Option(names = "--patch", defaultValue = "0", description = "train on random patches of this many rays per side (0 = whole image)") int patch;
        @Option(names = "--checkpoint-every", defaultValue = "500") int every;
        @Option(names = "--seed", defaultValue = "0") long seed;
        @Option(names = "--resume", description = "continue from OUTPUT/checkpoint.safetensors (if there is one)") boolean resume;
        @Option(names = "--max-steps-this-run", description = "stop (with a checkpoint) after this many steps; continue with --resume") Long maxSteps;

        @Override
        public Integer call() throws Exception {
            if (maxSteps != null && maxSteps < 1) throw new IllegalArgumentException("--max-steps-this-run must be >= 1, got " + maxSteps);
            if (Files.isDirectory(out) && Files.isDirectory(teacher) && Files.isSameFile(out, teacher)) {
                throw new IllegalArgumentException("the student needs its own output folder: " + out + " is the teacher's");
            }
            SceneDataset d = SceneDataset.load(dataOf(teacher, data));
            StudentConfig base = StudentConfig.preset(preset, d.near(), d.far());
            if (d.ndc()) base = base.forwardFacing();
            StudentConfig cfg = new StudentConfig(base.k(), base.freqs(), width == null ? base.width() : width, blocks == null ? base.blocks() : blocks,
                    headChannels == null ? base.headChannels() : headChannels, base.upscale(),
                    compactHead == null ? base.compactHead() : compactHead, base.near(), base.far(), base.ndc());
            boolean cont = NelfCommand.resuming(out, resume);
            StudentTask.Options opt = new StudentTask.Options(distillSteps, finetuneSteps, lr, patch, every, seed);
            try (NDManager m = NDManager.newBaseManager()) {
                List<StudentTask.Target> pseudoViews = List.of();
                if (distillSteps > 0) {
                    VoxelNeRF t = NelfModels.teacher(m, teacher);
                    pseudoViews = Distiller.pseudoViews(m, t, d, pseudo, seed, out, System.out);
                    t.parameters().values().forEach(p -> p.get().close());
                }
                List<StudentTask.Target> real = d.train().stream().map(StudentTask.Target::of).toList();
                MobileR2L s = new MobileR2L(cfg);
                s.initialize(m, seed);
                StudentTask task = new StudentTask(s, opt, pseudoViews, real);
                Trainer trainer = task.trainer(out, m);
                Trainer.Result r;
                try (TrainProgress bar = new TrainProgress(System.out, "student",
                        info -> String.format(Locale.ROOT, "%s  psnr %.2f", task.phase(info.step() - 1), -10 * Math.log10(info.loss())))) {
                    r = trainer.run(task, cont, maxSteps == null ? bar : stoppingAfter(maxSteps, trainer, bar), true);
                }
                if (r.stopped()) {
                    System.out.println("student stopped at step " + r.stepsDone() + "; continue with --resume");
                    return 0;
                }
                ObjectNode report = evalStudent(m, s, d, 0, null);
                report.put("data", d.name());
                Files.writeString(out.resolve("student.json"), NelfCommand.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
            }
            return 0;
        }
    }

    /** Forwards to {@code bar} and asks {@code trainer} to stop once {@code max} steps ran in this process. */
    private static Trainer.Listener stoppingAfter(long max, Trainer trainer, Trainer.Listener bar) {
        return new Trainer.Listener() {
            private long start;

            @Override
            public void onStart(long startStep, long totalSteps) {
                start = startStep;
                bar.onStart(startStep, totalSteps);
            }

            @Override
            public void onStep(Trainer.StepInfo info) {
                bar.onStep(info);
                if (info.step() - start >= max) trainer.requestStop();
            }
        };
    }

    static ObjectNode evalStudent(NDManager m, MobileR2L s, SceneDataset d, int limit, Path imagesDir) {
        ObjectNode r = NelfCommand.JSON.createObjectNode();
        r.put("model", "student " + s.config);
        r.put("parameters", s.parameterCount());
        r.put("size_mb", 4.0 * s.parameterCount() / 1e6);
        return NelfCommand.scoreTestViews(r, "student", d, limit, imagesDir,
                camera -> s.renderImage(m, camera));
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "PSNR and SSIM of a student (and optionally its teacher) on the test views, per view and mean, as JSON;"
                    + " side-by-side PNGs (ground truth | teacher | student).")
    static final class Eval implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "student folder") Path model;
        @Option(names = "--teacher", description = "teacher folder, to compare") Path teacher;
        @Option(names = "--data", description = "scene folder (default: from the teacher)") Path data;
        @Option(names = {"-o", "--output"}, required = true, description = "JSON report") Path out;
        @Option(names = "--images", description = "folder for side-by-side PNGs") Path images;
        @Option(names = "--side-by-side", defaultValue = "3", description = "how many test views get a side-by-side PNG") int sideBySide;
        @Option(names = "--views", defaultValue = "0", description = "test views to evaluate (0 = all)") int limit;

        @Override
        public Integer call() throws Exception {
            if (data == null && teacher == null) throw new IllegalArgumentException("pass --data (or --teacher, whose teacher.json names the scene)");
            SceneDataset d = SceneDataset.load(data != null ? data : dataOf(teacher, null));
            try (NDManager m = NDManager.newBaseManager()) {
                MobileR2L s = NelfModels.student(m, model);
                VoxelNeRF t = teacher == null ? null : NelfModels.teacher(m, teacher);
                ObjectNode r = NelfCommand.JSON.createObjectNode();
                r.put("scene", d.name());
                r.put("student", s.config.toString());
                r.put("student_parameters", s.parameterCount());
                ArrayNode views = r.putArray("views");
                int n = limit <= 0 ? d.test().size() : Math.min(limit, d.test().size());
                double[] sum = new double[4];
                for (int i = 0; i < n; i++) {
                    View v = d.test().get(i);
                    RgbImage si = s.renderImage(m, v.camera());
                    ObjectNode o = views.addObject();
                    o.put("view", v.file());
                    o.put("student_psnr", Metrics.psnr(si, v.image()));
                    o.put("student_ssim", Metrics.ssim(si, v.image()));
                    sum[0] += o.get("student_psnr").asDouble();
                    sum[1] += o.get("student_ssim").asDouble();
                    RgbImage ti = null;
                    if (t != null) {
                        ti = t.renderImage(m, v.camera(), 8192);
                        o.put("teacher_psnr", Metrics.psnr(ti, v.image()));
                        o.put("teacher_ssim", Metrics.ssim(ti, v.image()));
                        sum[2] += o.get("teacher_psnr").asDouble();
                        sum[3] += o.get("teacher_ssim").asDouble();
                    }
                    if (images != null && i < sideBySide) {
                        List<RgbImage> row = new ArrayList<>(List.of(v.image()));
                        if (ti != null) row.add(ti);
                        row.add(si);
                        RgbImage.hstack(row).writePng(images.resolve(d.name() + "_test_" + i + ".png"));
                    }
                }
                r.put("test_views", n);
                r.put("student_psnr_mean", sum[0] / n);
                r.put("student_ssim_mean", sum[1] / n);
                if (t != null) {
                    r.put("teacher_psnr_mean", sum[2] / n);
                    r.put("teacher_ssim_mean", sum[3] / n);
                }
                Path abs = out.toAbsolutePath();
                Files.createDirectories(abs.getParent());
                Files.writeString(abs, NelfCommand.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                System.out.printf(Locale.ROOT, "%s: student PSNR %.2f SSIM %.4f%s over %d test views%n", d.name(), sum[0] / n, sum[1] / n,
                        t == null ? "" : String.format(Locale.ROOT, "; teacher PSNR %.2f SSIM %.4f", sum[2] / n, sum[3] / n), n);
            }
            return 0;
        }
    }

    @Command(name = "render", mixinStandardHelpOptions = true,
            description = "Render a student or teacher: one pose to a PNG, or a turn-table orbit to a looping GIF.")
    static final class Render implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "student or teacher folder (or its checkpoint.safetensors)") Path model;
        @Option(names = "--pose", description = "16 numbers: 4x4 camera-to-world, row-major (comma or space separated)") String pose;
        @Option(names = "--orbit", description = "turn-table orbit") boolean orbit;
        @Option(names = "--frames", defaultValue = "120") int frames;
        @Option(names = "--radius", defaultValue = "4.0") double radius;
        @Option(names = "--elevation", defaultValue = "30") double elevation;
        @Option(names = {"-W", "--width"}, defaultValue = "400") int width;
        @Option(names = {"-H", "--height"}, defaultValue = "400") int height;
        @Option(names = "--camera-angle-x", defaultValue = "0.6911112070083618", description = "horizontal field of view, radians") double fov;
        @Option(names = "--fps", defaultValue = "25") int fps;
        @Option(names = {"-o", "--output"}, required = true, description = ".png for --pose, .gif for --orbit") Path out;

        @Override
        public Integer call() throws Exception {
            if (orbit == (pose != null)) throw new IllegalArgumentException("pass exactly one of --pose or --orbit");
            List<double[]> poses;
            if (orbit) {
                if (frames < 1) throw new IllegalArgumentException("--frames must be >= 1");
                poses = Poses.orbit(frames, radius, elevation);
            } else {
                double[] m = Arrays.stream(pose.trim().split("[,\\s]+")).mapToDouble(Double::parseDouble).toArray();
                Poses.requireRigid(m, "--pose");
                poses = List.<double[]>of(m);
            }
            try (NDManager m = NDManager.newBaseManager()) {
                Module loaded = NelfModels.load(m, model);
                MobileR2L s = loaded instanceof MobileR2L x ? x : null;
                VoxelNeRF t = loaded instanceof VoxelNeRF x ? x : null;
                String kind = s != null ? "student" : "teacher";
                List<RgbImage> imgs = new ArrayList<>();
                long t0 = System.nanoTime();
                try (ProgressBar bar = new ProgressBar(System.out, "render", poses.size())) {
                    for (double[] p : poses) {
                        Camera cam = Camera.fromAngleX(width, height, fov, p);
                        imgs.add(s != null ? s.renderImage(m, cam) : t.renderImage(m, cam, 8192));
                        bar.step(imgs.size());
                    }
                }
                double ms = (System.nanoTime() - t0) / 1e6 / poses.size();
                if (orbit) RgbImage.writeGif(imgs, 1000 / fps, out);
                else imgs.get(0).writePng(out);
                System.out.printf(Locale.ROOT, "wrote %s (%d frame(s), %.1f ms/frame with %s)%n", out, imgs.size(), ms, kind);
            }
            return 0;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Milliseconds per frame at 400x400 and 800x800, model size and GFLOPs per frame, for a student and a teacher.")
    static final class Bench implements Callable<Integer> {
        @Option(names = "--model", description = "student folder (default: a randomly initialised --preset student)") Path model;
        @Option(names = "--preset", defaultValue = "small") String preset;
        @Option(names = "--teacher", description = "teacher folder to time as well") Path teacher;
        @Option(names = "--sizes", defaultValue = "400,800", split = ",") int[] sizes;
        @Option(names = "--iterations", defaultValue = "5") int iterations;
        @Option(names = "--teacher-iterations", defaultValue = "1") int teacherIterations;
        @Option(names = {"-o", "--output"}, description = "JSON report") Path out;

        @Override
        public Integer call() throws Exception {
            ObjectNode r = NelfCommand.JSON.createObjectNode();
            r.put("threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
            r.put("cpus", Runtime.getRuntime().availableProcessors());
            try (NDManager m = NDManager.newBaseManager()) {
                MobileR2L s;
                if (model != null) {
                    s = NelfModels.student(m, model);
                } else {
                    s = new MobileR2L(StudentConfig.preset(preset, 2.5, 5.5));
                    s.initialize(m, 0);
                }
                ObjectNode so = r.putObject("student");
                so.put("config", s.config.toString());
                so.put("parameters", s.parameterCount());
                so.put("size_mb", 4.0 * s.parameterCount() / 1e6);
                for (int size : sizes) {
                    Camera cam = Camera.fromAngleX(size, size, 0.6911112070083618, Poses.spherical(30, 30, 4));
                    double[] times = new double[iterations];
                    double[] encode = new double[iterations];
                    for (int i = -2; i < iterations; i++) {
                        try (NDManager sub = m.newSubManager()) {
                            long t0 = System.nanoTime();
                            NDArray rays = RayEncoder.encode(sub, cam, s.config);
                            long t1 = System.nanoTime();
                            float[] px = s.forward(rays).toFloatArray();
                            long t2 = System.nanoTime();
                            if (px.length != size * size * 3) throw new IllegalStateException("unexpected output size");
                            if (i >= 0) {
                                times[i] = (t2 - t0) / 1e6;
                                encode[i] = (t1 - t0) / 1e6;
                            }
                        }
                    }
                    Arrays.sort(times);
                    Arrays.sort(encode);
                    ObjectNode o = so.putObject(size + "x" + size);
                    o.put("ms_median", times[iterations / 2]);
                    o.put("ms_min", times[0]);
                    o.put("ray_encoding_ms_median", encode[iterations / 2]);
                    o.put("gflops", s.flopsPerFrame(size, size) / 1e9);
                    System.out.printf(Locale.ROOT, "student %dx%d: %.1f ms/frame (median of %d; ray encoding %.1f ms), %.2f GFLOPs, %.2f MB%n",
                            size, size, times[iterations / 2], iterations, encode[iterations / 2], s.flopsPerFrame(size, size) / 1e9, 4.0 * s.parameterCount() / 1e6);
                }
                if (teacher != null) {
                    VoxelNeRF t = NelfModels.teacher(m, teacher);
                    ObjectNode to = r.putObject("teacher");
                    to.put("config", t.config.toString());
                    to.put("parameters", t.parameterCount());
                    to.put("size_mb", t.sizeBytes() / 1e6);
                    for (int size : sizes) {
                        Camera cam = Camera.fromAngleX(size, size, 0.6911112070083618, Poses.spherical(30, 30, 4));
                        Camera.Rays rays = cam.rays();
                        int[] all = new int[size * size];
                        for (int i = 0; i < all.length; i++) all[i] = i;
                        long samples = t.sample(rays, all, null).count();
                        double[] times = new double[teacherIterations];
                        for (int i = 0; i < teacherIterations; i++) {
                            long t0 = System.nanoTime();
                            t.renderImage(m, cam, 8192);
                            times[i] = (System.nanoTime() - t0) / 1e6;
                        }
                        Arrays.sort(times);
                        // per sample: trilinear gather (8 corners x (1+C)) + MLP; per pixel compositing is negligible
                        int c = t.config.features(), h = t.config.hidden();
                        long perSample = 2L * 8 * (1 + c) + 2L * ((c + t.config.viewChannels()) * h + h * h + h * 3);
                        ObjectNode o = to.putObject(size + "x" + size);
                        o.put("ms_median", times[teacherIterations / 2]);
                        o.put("samples_per_ray", samples / (double) all.length);
                        o.put("gflops", samples * perSample / 1e9);
                        System.out.printf(Locale.ROOT, "teacher %dx%d: %.0f ms/frame, %.1f samples/ray, %.2f GFLOPs, %.1f MB%n",
                                size, size, times[teacherIterations / 2], samples / (double) all.length, samples * perSample / 1e9, t.sizeBytes() / 1e6);
                    }
                }
            }
            if (out != null) {
                Path abs = out.toAbsolutePath();
                Files.createDirectories(abs.getParent());
                Files.writeString(abs, NelfCommand.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
            }
            return 0;
        }
    }

}
