package dev.edgegen.nelf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.edgegen.nelf.student.MobileR2L;
import dev.edgegen.nelf.student.StudentConfig;
import dev.edgegen.nelf.teacher.TeacherConfig;
import dev.edgegen.nelf.teacher.VoxelNeRF;
import dev.edgegen.nn.Module;
import dev.edgegen.train.Checkpoint;
import dev.edgegen.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Trained teachers and students. A model folder is the run directory of {@code edgegen nelf
 * teacher|distill}: the shared trainer's {@code checkpoint.safetensors}, whose config holds
 * {@code task.kind} ("teacher" or "student") and {@code task.model} (the {@link TeacherConfig} or
 * {@link StudentConfig}). The model is the checkpoint's {@code model.*} weights (the NeLF tasks
 * train without EMA); a teacher's occupancy grid is recomputed from them.
 */
public final class NelfModels {
    private static final ObjectMapper JSON = new ObjectMapper();

    private NelfModels() {}

    /** The checkpoint of a model folder, or the file itself; a folder of the old format is refused by name. */
    public static Path checkpoint(Path dirOrFile) {
        if (!Files.isDirectory(dirOrFile)) {
            if (!Files.isRegularFile(dirOrFile)) throw new IllegalArgumentException(dirOrFile + ": no such model folder or checkpoint");
            return dirOrFile;
        }
        Path ckpt = Trainer.checkpointOf(dirOrFile);
        if (!Files.isRegularFile(ckpt)) {
            refuseOldFormat(dirOrFile);
            throw new IllegalArgumentException(dirOrFile + " holds no " + Trainer.CHECKPOINT
                    + "; train a model into it with `edgegen nelf teacher` or `edgegen nelf distill`");
        }
        return ckpt;
    }

    /** Fails with a clear message when {@code dir} holds a teacher.ckpt / student.ckpt of EdgeGen's earlier NeLF trainer. */
    public static void refuseOldFormat(Path dir) {
        for (String old : new String[] {"teacher.ckpt", "student.ckpt"}) {
            if (Files.isRegularFile(dir.resolve(old))) {
                throw new IllegalArgumentException(dir.resolve(old) + " is in the NeLF checkpoint format of earlier EdgeGen versions,"
                        + " which is no longer read; train the model again (it is now stored as " + Trainer.CHECKPOINT + ")");
            }
        }
    }

    /** A teacher ({@link VoxelNeRF}, occupancy computed) or a student ({@link MobileR2L}) with its weights in {@code manager}. */
    public static Module load(NDManager manager, Path dirOrFile) {
        Path ckpt = checkpoint(dirOrFile);
        Checkpoint c;
        try {
            c = Checkpoint.load(ckpt, manager);
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        c.ema().values().forEach(NDArray::close);
        c.optimizer().values().forEach(NDArray::close);
        c.task().values().forEach(NDArray::close);
        JsonNode task = c.config().path("task");
        String kind = task.path("kind").asText();
        Module model;
        try {
            model = switch (kind) {
                case "teacher" -> new VoxelNeRF(JSON.treeToValue(task.get("model"), TeacherConfig.class));
                case "student" -> new MobileR2L(JSON.treeToValue(task.get("model"), StudentConfig.class));
                default -> null;
            };
        } catch (IOException | RuntimeException e) {
            c.model().values().forEach(NDArray::close);
            throw new IllegalArgumentException(ckpt + ": unreadable " + kind + " config " + task.get("model") + " (" + e.getMessage() + ")", e);
        }
        if (model == null) {
            c.model().values().forEach(NDArray::close);
            throw new IllegalArgumentException(ckpt + " is not a NeLF teacher or student run (task kind \"" + kind + "\")");
        }
        Module.LoadReport r = model.load(c.model());
        if (!r.ok()) {
            c.model().values().forEach(NDArray::close);
            throw new IllegalArgumentException(ckpt + ": the weights do not fit the " + kind + " config:\n" + r.describe());
        }
        if (model instanceof VoxelNeRF t) t.updateOccupancy(VoxelNeRF.OCCUPANCY_ALPHA);
        return model;
    }

    public static VoxelNeRF teacher(NDManager manager, Path dirOrFile) {
        Module m = load(manager, dirOrFile);
        if (m instanceof VoxelNeRF t) return t;
        m.parameters().values().forEach(p -> p.get().close());
        throw new IllegalArgumentException(dirOrFile + " holds a student, not a teacher");
    }

    public static MobileR2L student(NDManager manager, Path dirOrFile) {
        Module m = load(manager, dirOrFile);
        if (m instanceof MobileR2L s) return s;
        m.parameters().values().forEach(p -> p.get().close());
        throw new IllegalArgumentException(dirOrFile + " holds a teacher, not a student");
    }
}
