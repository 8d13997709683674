package dev.edgegen.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.nn.Module;
import dev.edgegen.nn.Parameter;
import dev.edgegen.tensor.Autocast;
import dev.edgegen.tensor.Denormals;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The training loop shared by every stage (autoencoder, UNet, distillation students, the NeLF
 * teacher and student): AdamW with warm-up + cosine learning rate, gradient clipping by global
 * norm, EMA weights, atomic resumable checkpoints, a JSONL log, a loss-curve PNG, and a stop on a
 * non-finite loss.
 *
 * <p>A finite loss with non-finite gradients skips that step's update (as torch.amp's GradScaler skips steps), counted as
 * {@code skipped_steps} in the log; {@link #MAX_SKIPPED_IN_A_ROW} such steps in a row stop the run like a non-finite
 * loss. On this project's AMD Zen 5 machines libtorch's oneDNN backward pass now and then returns a gradient of
 * uninitialised values (Inf, or finite garbage like 1e28, which the clipping bounds) at a random step: in ~20% of fresh
 * processes training the 60-step test autoencoder of {@code TasksTest} (docs/training.md).
 *
 * <p>Files in the run directory: {@code checkpoint.safetensors} (see {@link Checkpoint}),
 * {@code log.jsonl} (one line per {@code logEvery} steps: step, loss, lr, grad_norm, it_s,
 * elapsed_s, skipped_steps when any, and the task's own terms), {@code loss.png}, {@code config.json}.
 *
 * <p>Exactness of resume rests on three things: all state is saved in float32 bit-exact; the
 * randomness of step s comes only from {@link #stepRandom(long, long)} (seed, s); and the task
 * restores its data order from the saved position (and any other state from {@link Task#state}). A SIGTERM/Ctrl-C ends the current step,
 * writes a checkpoint and exits; a SIGKILL loses at most the steps since the last checkpoint.
 */
public final class Trainer {
    /** Steps with a finite loss and non-finite gradients that may follow one another before the run stops. */
    static final int MAX_SKIPPED_IN_A_ROW = 3;

    /**
     * Training hyper-parameters; all are part of the saved config except the two intervals. {@code precision}: that of
     * the convolutions and linear layers in the forward and backward pass of each step ({@link Autocast}).
     * {@code workers}: threads that compute the parts of each step's batch concurrently ({@link Task#split}), each with
     * an equal share of libtorch's intra-op threads (at least one).
     */
    public record Options(long steps, double lr, long warmupSteps, double minLrRatio, double beta1, double beta2,
                          double eps, double weightDecay, double clipNorm, double emaDecay,
                          long checkpointEvery, long logEvery, long seed, Autocast.Precision precision, int workers) {
        /** One worker. */
        public Options(long steps, double lr, long warmupSteps, double minLrRatio, double beta1, double beta2,
                       double eps, double weightDecay, double clipNorm, double emaDecay,
                       long checkpointEvery, long logEvery, long seed, Autocast.Precision precision) {
            this(steps, lr, warmupSteps, minLrRatio, beta1, beta2, eps, weightDecay, clipNorm, emaDecay,
                    checkpointEvery, logEvery, seed, precision, 1);
        }

        /** Float32 throughout. */
        public Options(long steps, double lr, long warmupSteps, double minLrRatio, double beta1, double beta2,
                       double eps, double weightDecay, double clipNorm, double emaDecay,
                       long checkpointEvery, long logEvery, long seed) {
            this(steps, lr, warmupSteps, minLrRatio, beta1, beta2, eps, weightDecay, clipNorm, emaDecay,
                    checkpointEvery, logEvery, seed, Autocast.Precision.FLOAT32);
        }

        public Options {
            if (steps <= 0) throw new IllegalArgumentException("steps must be > 0, got " + steps);
            if (checkpointEvery <= 0) throw new IllegalArgumentException("checkpointEvery must be > 0, got " + checkpointEvery);
            if (logEvery <= 0) throw new IllegalArgumentException("logEvery must be > 0, got " + logEvery);
            if (clipNorm < 0) throw new IllegalArgumentException("clipNorm must be >= 0 (0 disables clipping), got " + clipNorm);
            new LrSchedule(lr, warmupSteps, steps, minLrRatio);
            new AdamW.Hyper(beta1, beta2, eps, weightDecay);
            if (emaDecay < 0 || emaDecay >= 1) throw new IllegalArgumentException("emaDecay must be in [0, 1), got " + emaDecay);
            if (workers < 1) throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        }

        public LrSchedule schedule() { return new LrSchedule(lr, warmupSteps, steps, minLrRatio); }

        public AdamW.Hyper adam() { return new AdamW.Hyper(beta1, beta2, eps, weightDecay); }
    }

    /** One training stage: computes the loss of a step and owns the data order. */
    public interface Task {
        /**
         * Scalar loss of step {@code step} (0-based), computed with gradient recording on. Create
         * every array in {@code scope} (it is closed after the step); draw randomness only from {@code rng}.
         */
        NDArray loss(NDManager scope, long step, Random rng);

        /** Data-order position after the steps done so far (saved in checkpoints). */
        default long dataPosition() { return 0; }

        /** Restores the data order saved by {@link #dataPosition()}. */
        default void seekData(long position) {}

        /**
         * Sums of named terms of the loss (e.g. an auxiliary loss before its weight) over the steps since the last
         * call, called on the trainer's thread after a step; each log line carries their means over its steps.
         */
        default Map<String, Double> takeTermSums() { return Map.of(); }

        /** Learning-rate multiplier of parameter {@code name} (parameter groups, e.g. a grid and an MLP); 1 by default. */
        default double lrScale(String name) { return 1; }

        /**
         * State beyond weights, optimizer and data position that later steps depend on (e.g. a cache
         * computed from earlier weights), saved in checkpoints as {@code task.NAME}. Create the
         * arrays in {@code manager}; they are closed after the save.
         */
        default Map<String, NDArray> state(NDManager manager) { return Map.of(); }

        /** Restores what {@link #state(NDManager)} saved (empty for a checkpoint without task state); the arrays are closed after the call. */
        default void loadState(Map<String, NDArray> state) {}

        /**
         * Step {@code step} as {@code parts} pieces of work the trainer runs concurrently, one per worker: each piece
         * computes the share of the step's loss of its slice of the batch, so the shares sum to the loss and their
         * gradients to its gradient. Called on the trainer's thread, which draws the batch and every random choice here
         * (from {@code rng}, or generators seeded from it); a piece creates its arrays in the scope it is given and may
         * only call thread-safe code. Tasks that cannot split refuse.
         */
        default List<Function<NDManager, NDArray>> split(NDManager scope, long step, Random rng, int parts) {
            throw new UnsupportedOperationException(getClass().getSimpleName()
                    + " cannot split a step across workers; set trainer.workers to 1");
        }
    }

    /** What a listener (e.g. the CLI progress bar) sees after each step. */
    public record StepInfo(long step, long totalSteps, double loss, double lr, double gradNorm, double itPerSec) {}

    public interface Listener {
        /** Called once before the first step of this run ({@code startStep} > 0 after a resume). */
        default void onStart(long startStep, long totalSteps) {}

        void onStep(StepInfo info);
    }

    /** How the run ended: steps done in total, the last loss, the checkpoint file, whether a stop was requested. */
    public record Result(long stepsDone, double lastLoss, Path checkpoint, boolean stopped) {}

    /** Config fields that may change between a run and its resume. */
    public static final Set<String> RESUMABLE_CHANGES = Set.of("trainer.checkpointEvery", "trainer.logEvery");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Module model;
    private final Options options;
    private final JsonNode taskConfig;
    private final Path runDir;
    private final NDManager manager;
    private final Predicate<String> trainable;
    private volatile boolean stopRequested;

    /**
     * {@code model} must be initialised; its parameter arrays must belong to {@code manager}.
     * {@code taskConfig} is the model/data config stored with checkpoints and compared on resume.
     * Parameters whose name fails {@code trainable} are frozen (neither updated nor averaged).
     */
    public Trainer(Module model, Options options, JsonNode taskConfig, Path runDir, NDManager manager,
                   Predicate<String> trainable) {
        this.model = model;
        this.options = options;
        this.taskConfig = taskConfig;
        this.runDir = runDir;
        this.manager = manager;
        this.trainable = trainable;
    }

    public Trainer(Module model, Options options, JsonNode taskConfig, Path runDir, NDManager manager) {
        this(model, options, taskConfig, runDir, manager, name -> true);
    }

    public Path checkpointFile() { return checkpointOf(runDir); }

    /** The name of a run's checkpoint file in its run directory. */
    public static final String CHECKPOINT = "checkpoint.safetensors";

    /** The checkpoint file of the run in {@code runDir}, as {@link #run} writes it. */
    public static Path checkpointOf(Path runDir) { return runDir.resolve(CHECKPOINT); }

    public Path logFile() { return runDir.resolve("log.jsonl"); }

    public Path lossCurveFile() { return runDir.resolve("loss.png"); }

    /** Asks the loop to finish the current step, write a checkpoint and return. */
    public void requestStop() { stopRequested = true; }

    /** The config stored in checkpoints: {"trainer": options, "task": taskConfig}. */
    public JsonNode savedConfig() {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode trainer = JSON.valueToTree(options);
        if (options.workers() == 1) trainer.remove("workers"); // as saved before workers existed: those runs still resume
        n.set("trainer", trainer);
        n.set("task", taskConfig == null ? JSON.nullNode() : taskConfig);
        return n;
    }

    /** The random generator of step {@code step}: a pure function of (seed, step). */
    public static Random stepRandom(long seed, long step) {
        return new Random(mix(seed * 0x9E3779B97F4A7C15L + mix(step + 0x632BE59BD9B4E019L)));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Trains from step 0, or from the checkpoint in the run directory when {@code resume} is set,
     * to {@code options.steps()}. Writes a final checkpoint. With {@code handleSignals}, SIGTERM /
     * Ctrl-C end the run after the current step with a checkpoint.
     */
    public Result run(Task task, boolean resume, Listener listener, boolean handleSignals) throws IOException {
        Files.createDirectories(runDir);
        Map<String, Parameter> params = new LinkedHashMap<>();
        model.parameters().forEach((k, p) -> { if (trainable.test(k)) params.put(k, p); });
        if (params.isEmpty()) throw new IllegalArgumentException("no trainable parameters");
        LrSchedule schedule = options.schedule();
        JsonNode config = savedConfig();

        try (AdamW adam = new AdamW(options.adam(), manager); Ema ema = new Ema(options.emaDecay(), manager)) {
            long start = 0;
            List<Long> logSteps = new ArrayList<>();
            List<Double> logLosses = new ArrayList<>();
            Path ckpt = checkpointFile();
            if (resume) {
                if (!Files.exists(ckpt)) {
                    throw new IOException("cannot resume: no checkpoint at " + ckpt + "; start without --resume");
                }
                start = restore(ckpt, config, task, adam, ema);
                readLog(start, logSteps, logLosses);
            } else if (Files.exists(ckpt)) {
                throw new IOException(runDir + " already holds a checkpoint; pass --resume to continue it, or choose another output directory");
            } else {
                Files.deleteIfExists(logFile());
            }
            // Only now: a refused resume must leave the run's config.json (which TrainedModels reads) untouched.
            Files.writeString(runDir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
            for (Parameter p : params.values()) p.get().setRequiresGradient(true);
            if (listener != null) listener.onStart(start, options.steps());

            CountDownLatch finished = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                requestStop();
                try {
                    finished.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "edgegen-train-stop");
            if (handleSignals) Runtime.getRuntime().addShutdownHook(hook);
            long lastCheckpointStep = resume ? start : -1;
            double lastLoss = Double.NaN;
            long t0 = System.nanoTime();
            double windowLoss = 0;
            int windowCount = 0;
            int skippedInARow = 0;
            int windowSkipped = 0;
            long step = start;
            try (BufferedWriter log = Files.newBufferedWriter(logFile(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                 Workers pool = options.workers() == 1 ? null : new Workers(options.workers(), options.precision(), options.seed())) {
                while (step < options.steps() && !stopRequested) {
                    double lr = schedule.at(step);
                    double gradNorm;
                    try (NDManager scope = manager.newSubManager()) {
                        lastLoss = pool == null ? lossAndGradients(task, scope, step) : pool.lossAndGradients(task, scope, step);
                        Map<String, NDArray> values = new LinkedHashMap<>();
                        Map<String, NDArray> grads = new LinkedHashMap<>();
                        for (var e : params.entrySet()) {
                            NDArray a = e.getValue().get();
                            NDArray g = a.getGradient();
                            g.attach(scope);
                            values.put(e.getKey(), a);
                            grads.put(e.getKey(), g);
                        }
                        gradNorm = Double.isFinite(lastLoss) ? GradClip.clip(grads.values(), options.clipNorm()) : Double.NaN;
                        boolean badGradients = Double.isFinite(lastLoss) && !Double.isFinite(gradNorm);
                        if (!Double.isFinite(lastLoss) || (badGradients && skippedInARow + 1 >= MAX_SKIPPED_IN_A_ROW)) {
                            throw diverged(step, lastLoss, gradNorm, badGradients ? GradClip.largest(grads) : null, lastCheckpointStep,
                                    skippedInARow + 1);
                        }
                        if (badGradients) {         // a finite loss with non-finite gradients: skip the update (class comment)
                            skippedInARow++;
                            windowSkipped++;
                        } else {
                            skippedInARow = 0;
                            adam.step(values, grads, name -> lr * task.lrScale(name));
                        }
                        for (NDArray a : values.values()) JniUtils.zeroGrad((PtNDArray) a);
                    }
                    ema.update(params, step);
                    step++;
                    windowLoss += lastLoss;
                    windowCount++;
                    double secs = (System.nanoTime() - t0) / 1e9;
                    double itPerSec = (step - start) / Math.max(secs, 1e-9);
                    if (step % options.logEvery() == 0 || step == options.steps()) {
                        double mean = windowLoss / windowCount;
                        ObjectNode line = JSON.createObjectNode();
                        line.put("step", step).put("loss", mean).put("lr", lr);
                        if (Double.isFinite(gradNorm)) line.put("grad_norm", gradNorm); else line.putNull("grad_norm");
                        line.put("it_s", itPerSec).put("elapsed_s", secs);
                        if (windowSkipped > 0) line.put("skipped_steps", windowSkipped);
                        windowSkipped = 0;
                        for (var term : task.takeTermSums().entrySet()) line.put(term.getKey(), term.getValue() / windowCount);
                        log.write(JSON.writeValueAsString(line));
                        log.newLine();
                        log.flush();
                        logSteps.add(step);
                        logLosses.add(mean);
                        windowLoss = 0;
                        windowCount = 0;
                    }
                    if (listener != null) {
                        listener.onStep(new StepInfo(step, options.steps(), lastLoss, lr, gradNorm, itPerSec));
                    }
                    if (step % options.checkpointEvery() == 0 && step < options.steps()) {
                        save(step, task, adam, ema, config, logSteps, logLosses);
                        lastCheckpointStep = step;
                    }
                }
                if (lastCheckpointStep != step) {
                    save(step, task, adam, ema, config, logSteps, logLosses);
                }
            } finally {
                for (Parameter p : params.values()) p.get().setRequiresGradient(false);
                finished.countDown();
                if (handleSignals) {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is running: it waits for the latch released above
                    }
                }
            }
            return new Result(step, lastLoss, ckpt, step < options.steps());
        }
    }

    /** One worker: the step's loss on this thread; gradients are accumulated into the parameters. */
    private float lossAndGradients(Task task, NDManager scope, long step) {
        NDArray loss;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector();
             Autocast.Scope precision = options.precision().scope()) {
            loss = task.loss(scope, step, stepRandom(options.seed(), step));
            checkScalar(loss);
            gc.backward(loss);
        }
        return loss.getFloat();
    }

    private static void checkScalar(NDArray loss) {
        if (loss.getShape().size() != 1) {
            throw new IllegalStateException("task returned a loss of shape " + loss.getShape() + "; it must be a scalar");
        }
    }

    /**
     * Data parallelism on one machine: the parts of a step ({@link Task#split}) run forward and backward on their own
     * threads, each with 1/n of libtorch's intra-op threads: at these sizes one thread per core does more than two
     * threads on one op (docs/training.md, "Speed of a step"). The parts' gradients add up in the shared parameter
     * gradients. With two parts the sum is the same whichever finishes first, so a resumed run stays bit-identical;
     * with more, float rounding depends on the order the parts finish.
     */
    private static final class Workers implements AutoCloseable {
        private final int n;
        private final Autocast.Precision precision;
        private final long seed;
        private final int threadsBefore;
        private final ExecutorService pool;

        Workers(int n, Autocast.Precision precision, long seed) {
            this.n = n;
            this.precision = precision;
            this.seed = seed;
            this.threadsBefore = JniUtils.getNumThreads();
            int each = Math.max(1, threadsBefore / n);
            this.pool = Executors.newFixedThreadPool(n, r -> {
                Thread t = new Thread(() -> {
                    JniUtils.setNumThreads(each); // per thread in libtorch's OpenMP build
                    Denormals.flushToZero(); // MXCSR is per thread too
                    r.run();
                }, "edgegen-train-worker");
                t.setDaemon(true);
                return t;
            });
        }

        float lossAndGradients(Task task, NDManager scope, long step) {
            List<Function<NDManager, NDArray>> parts = task.split(scope, step, stepRandom(seed, step), n);
            List<NDManager> scopes = new ArrayList<>();
            List<Future<Float>> done = new ArrayList<>();
            for (Function<NDManager, NDArray> part : parts) {
                NDManager partScope = scope.newSubManager();
                scopes.add(partScope);
                done.add(pool.submit(() -> {
                    boolean gradMode = JniUtils.isGradMode();
                    JniUtils.setGradMode(true);
                    try (Autocast.Scope p = precision.scope()) {
                        NDArray loss = part.apply(partScope);
                        checkScalar(loss);
                        JniUtils.backward((PtNDArray) loss, (PtNDArray) partScope.ones(loss.getShape()), false, false);
                        return loss.getFloat();
                    } finally {
                        JniUtils.setGradMode(gradMode);
                    }
                }));
            }
            float sum = 0;
            RuntimeException failure = null;
            for (Future<Float> f : done) { // wait for every part before the scope closes, even after a failure
                try {
                    float loss = f.get();
                    sum += loss;
                } catch (ExecutionException e) {
                    if (failure == null) failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    if (failure == null) failure = new IllegalStateException("interrupted while the step's parts ran", e);
                }
            }
            scopes.forEach(NDManager::close);
            if (failure != null) throw failure;
            return sum;
        }

        @Override
        public void close() {
            pool.shutdownNow();
            JniUtils.setNumThreads(threadsBefore);
        }
    }

    private TrainingDivergedException diverged(long step, double loss, double gradNorm, String worstGrad, long lastCheckpointStep,
                                               int badSteps) {
        String what = Double.isFinite(loss)
                ? "gradient norm is " + gradNorm + ", largest in " + worstGrad + (badSteps > 1 ? ", " + badSteps + " steps in a row" : "")
                : "loss is " + loss;
        String last = lastCheckpointStep >= 0
                ? "the last good checkpoint is " + checkpointFile() + " (step " + lastCheckpointStep + ")"
                : "no checkpoint was written yet";
        return new TrainingDivergedException(step, "training diverged: " + what + " at step " + step + "; " + last
                + "; lower the learning rate or raise the warm-up, then resume or restart");
    }

    private void save(long step, Task task, AdamW adam, Ema ema, JsonNode config,
                      List<Long> logSteps, List<Double> logLosses) throws IOException {
        Map<String, NDArray> weights = new LinkedHashMap<>();
        model.parameters().forEach((k, p) -> weights.put(k, p.get()));
        try (NDManager scope = manager.newSubManager()) {
            new Checkpoint(step, task.dataPosition(), options.seed(), adam.stepCount(), config,
                    weights, ema.weights(), adam.state(), task.state(scope)).save(checkpointFile());
        }
        LossCurve.write(lossCurveFile(), "loss (" + runDir.getFileName() + ")", logSteps, logLosses);
    }

    private long restore(Path file, JsonNode config, Task task, AdamW adam, Ema ema) throws IOException {
        try (NDManager tmp = manager.newSubManager()) {
            Checkpoint c = Checkpoint.load(file, tmp);
            List<String> diff = Checkpoint.differences(c.config(), config, RESUMABLE_CHANGES);
            if (!diff.isEmpty()) {
                throw new IllegalArgumentException("cannot resume " + file + ": it was trained with a different config:\n  "
                        + String.join("\n  ", diff) + "\nuse the original config or start a new run directory");
            }
            Map<String, NDArray> weights = new LinkedHashMap<>();
            c.model().forEach((k, v) -> {
                NDArray copy = v.duplicate();
                copy.attach(manager);
                weights.put(k, copy);
            });
            Module.LoadReport report = model.load(weights);
            if (!report.ok()) {
                weights.values().forEach(NDArray::close);
                throw new IllegalArgumentException("cannot resume " + file + ": its weights do not fit the model:\n" + report.describe());
            }
            ema.load(c.ema());
            adam.load(c.optimizer(), c.optimizerSteps());
            task.seekData(c.dataPosition());
            task.loadState(c.task());
            return c.step();
        }
    }

    /** Loads log lines up to {@code step} and rewrites the log without lines from beyond the checkpoint. */
    private void readLog(long step, List<Long> steps, List<Double> losses) throws IOException {
        Path log = logFile();
        if (!Files.exists(log)) return;
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException torn) {
                continue; // a line cut by a kill
            }
            if (n.path("step").asLong() > step) continue;
            kept.add(line);
            steps.add(n.path("step").asLong());
            losses.add(n.path("loss").asDouble());
        }
        Path tmp = log.resolveSibling("log.jsonl.tmp");
        Files.write(tmp, kept, StandardCharsets.UTF_8);
        Files.move(tmp, log, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
