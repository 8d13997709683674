package dev.edgegen.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything needed to continue a run exactly: weights, EMA weights, optimizer moments and step
 * count, the training step, the data-order position, the seed (randomness is counter-based:
 * step s draws from {@link Trainer#stepRandom(long, long)}, so seed + step is the full RNG state)
 * and the config the run was started with, plus any state of the task ({@link Trainer.Task#state}).
 * Stored as one {@link TensorArchive} file with keys {@code model.*}, {@code ema.*},
 * {@code optim.m.*}, {@code optim.v.*}, {@code task.*}.
 */
public record Checkpoint(long step, long dataPosition, long seed, long optimizerSteps, JsonNode config,
                         Map<String, NDArray> model, Map<String, NDArray> ema, Map<String, NDArray> optimizer,
                         Map<String, NDArray> task) {
    public static final String FORMAT = "edgegen-checkpoint-1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A checkpoint without task state. */
    public Checkpoint(long step, long dataPosition, long seed, long optimizerSteps, JsonNode config,
                      Map<String, NDArray> model, Map<String, NDArray> ema, Map<String, NDArray> optimizer) {
        this(step, dataPosition, seed, optimizerSteps, config, model, ema, optimizer, Map.of());
    }

    public void save(Path file) throws IOException {
        Map<String, NDArray> all = new LinkedHashMap<>();
        model.forEach((k, v) -> all.put("model." + k, v));
        ema.forEach((k, v) -> all.put("ema." + k, v));
        optimizer.forEach((k, v) -> all.put("optim." + k, v));
        task.forEach((k, v) -> all.put("task." + k, v));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(step));
        meta.put("data_position", Long.toString(dataPosition));
        meta.put("seed", Long.toString(seed));
        meta.put("optimizer_steps", Long.toString(optimizerSteps));
        meta.put("config", JSON.writeValueAsString(config));
        TensorArchive.write(file, all, meta);
    }

    /** Reads a checkpoint; its tensors are attached to {@code manager}. */
    public static Checkpoint load(Path file, NDManager manager) throws IOException {
        TensorArchive.Contents c = TensorArchive.read(file, manager);
        Map<String, String> meta = c.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new IOException(file + " is not an EdgeGen training checkpoint (format " + meta.get("format") + ")");
        }
        Map<String, NDArray> model = new LinkedHashMap<>();
        Map<String, NDArray> ema = new LinkedHashMap<>();
        Map<String, NDArray> optim = new LinkedHashMap<>();
        Map<String, NDArray> task = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("model.")) model.put(k.substring(6), v);
            else if (k.startsWith("ema.")) ema.put(k.substring(4), v);
            else if (k.startsWith("optim.")) optim.put(k.substring(6), v);
            else if (k.startsWith("task.")) task.put(k.substring(5), v);
        });
        try {
            return new Checkpoint(Long.parseLong(meta.get("step")), Long.parseLong(meta.get("data_position")),
                    Long.parseLong(meta.get("seed")), Long.parseLong(meta.get("optimizer_steps")),
                    JSON.readTree(meta.get("config")), model, ema, optim, task);
        } catch (RuntimeException e) {
            throw new IOException(file + " has damaged metadata: " + e.getMessage(), e);
        }
    }

    /**
     * Fields (dotted paths) whose values differ between {@code saved} and {@code current}, each as
     * "path: X in the checkpoint, Y now"; paths in {@code ignored} (and below them) are skipped.
     */
    public static List<String> differences(JsonNode saved, JsonNode current, Set<String> ignored) {
        Map<String, JsonNode> a = new LinkedHashMap<>();
        Map<String, JsonNode> b = new LinkedHashMap<>();
        flatten("", saved, a);
        flatten("", current, b);
        Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            if (isIgnored(k, ignored)) continue;
            JsonNode x = a.get(k);
            JsonNode y = b.get(k);
            if (x == null || y == null || !equal(x, y)) {
                out.add(k + ": " + (x == null ? "absent" : x.toString()) + " in the checkpoint, "
                        + (y == null ? "absent" : y.toString()) + " now");
            }
        }
        return out;
    }

    private static boolean equal(JsonNode x, JsonNode y) {
        if (x.isNumber() && y.isNumber()) return x.decimalValue().compareTo(y.decimalValue()) == 0;
        return x.equals(y);
    }

    private static boolean isIgnored(String key, Set<String> ignored) {
        for (String i : ignored) {
            if (key.equals(i) || key.startsWith(i + ".") || key.startsWith(i + "[")) return true;
        }
        return false;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        if (node == null) return;
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                var e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) flatten(prefix + "[" + i + "]", node.get(i), out);
            if (node.size() == 0) out.put(prefix, node);
        } else {
            out.put(prefix, node);
        }
    }
}
