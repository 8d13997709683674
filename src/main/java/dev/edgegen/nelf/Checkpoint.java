package dev.edgegen.nelf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.nn.Module;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One-file checkpoints: magic "NELFCKPT", a JSON header (kind, config, step, …), then DJL-encoded
 * named arrays (weights under their module keys, optimizer moments as {@code m.*} / {@code v.*}).
 * Written to a temporary file and atomically renamed, so a crash never leaves a half-written file.
 */
public final class Checkpoint {
    private static final byte[] MAGIC = "NELFCKPT".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The header and the named arrays of a loaded checkpoint. */
    public record Loaded(ObjectNode header, Map<String, NDArray> arrays) {}

    private Checkpoint() {}

    public static void save(Path file, ObjectNode header, Module model, Adam adam) {
        save(file, header, model, adam, new NDList());
    }

    /**
     * Resumes {@code model} from {@code file} if it exists: refuses a checkpoint trained with another
     * config (naming both), loads the weights and returns what was read (step, optimizer state and
     * extras stay in it); returns null when there is nothing to resume.
     */
    public static <C> Loaded resume(Path file, NDManager manager, Module model, C config, Class<C> type) {
        if (!java.nio.file.Files.isRegularFile(file)) return null;
        Loaded l = load(file, manager);
        C saved = JSON.convertValue(l.header().get("config"), type);
        if (!saved.equals(config)) {
            throw new IllegalArgumentException(file + ": checkpoint was trained with " + saved + ", not " + config
                    + "; use the same options or another output folder");
        }
        loadWeights(file, model, l.arrays());
        return l;
    }

    /** As above plus {@code extra} arrays, named {@code state.*}, that the trainer needs to resume exactly. */
    public static void save(Path file, ObjectNode header, Module model, Adam adam, NDList extra) {
        NDList list = new NDList();
        model.parameters().forEach((k, p) -> {
            p.get().setName(k);
            list.add(p.get());
        });
        if (adam != null) list.addAll(adam.state());
        list.addAll(extra);
        try {
            Path abs = file.toAbsolutePath();
            Files.createDirectories(abs.getParent());
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp));
                 DataOutputStream out = new DataOutputStream(os)) {
                byte[] h = JSON.writeValueAsBytes(header);
                out.write(MAGIC);
                out.writeInt(h.length);
                out.write(h);
                list.encode(out);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file, e);
        }
    }

    public static ObjectNode header(Path file) {
        try (InputStream is = new BufferedInputStream(Files.newInputStream(file)); DataInputStream in = new DataInputStream(is)) {
            return readHeader(file, in);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read checkpoint (" + e.getMessage() + ")", e);
        }
    }

    public static Loaded load(Path file, NDManager manager) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": checkpoint not found");
        try (InputStream is = new BufferedInputStream(Files.newInputStream(file)); DataInputStream in = new DataInputStream(is)) {
            ObjectNode header = readHeader(file, in);
            NDList list = NDList.decode(manager, in);
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            for (NDArray a : list) arrays.put(a.getName(), a);
            return new Loaded(header, arrays);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read checkpoint (" + e.getMessage() + ")", e);
        }
    }

    private static ObjectNode readHeader(Path file, DataInputStream in) throws IOException {
        byte[] magic = in.readNBytes(MAGIC.length);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new IllegalArgumentException(file + ": not a NeLF checkpoint (bad magic)");
        int n = in.readInt();
        if (n <= 0 || n > (1 << 24)) throw new IllegalArgumentException(file + ": corrupt checkpoint header length " + n);
        return (ObjectNode) JSON.readTree(in.readNBytes(n));
    }

    /** Optimizer moments and trainer state, as opposed to model weights. */
    public static boolean isState(String key) {
        return key.startsWith("m.") || key.startsWith("v.") || key.startsWith("state.");
    }

    /** Loads weights into {@code model}; any missing, unexpected or mis-shaped tensor is an error naming them. */
    public static void loadWeights(Path file, Module model, Map<String, NDArray> arrays) {
        Map<String, NDArray> weights = new LinkedHashMap<>();
        arrays.forEach((k, a) -> { if (!isState(k)) weights.put(k, a); });
        Module.LoadReport r = model.load(weights);
        if (!r.ok()) throw new IllegalArgumentException(file + ": checkpoint does not fit this model config:\n" + r.describe());
    }
}
