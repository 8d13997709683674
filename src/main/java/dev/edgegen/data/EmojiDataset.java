package dev.edgegen.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * Captioned 64x64 emoji from {@code scripts/fetch-emoji.sh} ({@code data/emoji/<set>/emoji.json}
 * and {@code 64/*.png}). Each entry has a name, its short names, category and subcategory.
 *
 * <p>Composite emoji: skin-tone variants are separate entries whose caption names the tone
 * ("waving hand, medium skin tone"); they are left out unless asked for, because they are ~1,900
 * near-copies of ~300 people emoji. Flags are captioned "flag of X". The skin-tone swatches
 * (category Component) are skipped. Images are composited over white.
 *
 * <p>Splits are by emoji (all styles and tones of one emoji go to the same split): a stable hash of
 * the emoji's code point sequence puts {@code valFraction} of them in VAL.
 */
public final class EmojiDataset {
    /** One image with its caption material. */
    public record Entry(Path image, String name, List<String> shortNames, String category, String subcategory,
                        String style, String unified, boolean flippable) {}

    public enum Split { TRAIN, VAL, ALL }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHIRAL = Pattern.compile(
            "\\b(left|right|arrow|leftwards|rightwards|clockwise|anticlockwise|counterclockwise|pointing|facing)\\b");
    private static final Map<String, String> TONES = Map.of(
            "1F3FB", "light skin tone", "1F3FC", "medium-light skin tone", "1F3FD", "medium skin tone",
            "1F3FE", "medium-dark skin tone", "1F3FF", "dark skin tone");

    private final List<Entry> entries;
    private final int unreadable;
    private final Map<Path, float[]> cache = new ConcurrentHashMap<>();

    private EmojiDataset(List<Entry> entries, int unreadable) {
        this.entries = List.copyOf(entries);
        this.unreadable = unreadable;
    }

    public List<Entry> entries() { return entries; }

    /** Images that failed to decode during {@link #verifyImages()} (and were dropped). */
    public int unreadable() { return unreadable; }

    /**
     * Reads {@code root/<style>/emoji.json} for each style; entries without an image file are skipped.
     * Throws with the fetch command when a style is missing.
     */
    public static EmojiDataset load(Path root, List<String> styles, Split split, double valFraction, boolean skinTones)
            throws IOException {
        List<Entry> out = new ArrayList<>();
        for (String style : styles) {
            Path dir = root.resolve(style);
            Path json = dir.resolve("emoji.json");
            if (!Files.isRegularFile(json)) {
                throw new NoSuchFileException(dir.toString(), null, "no emoji data; run scripts/fetch-emoji.sh " + style);
            }
            JsonNode all = JSON.readTree(json.toFile());
            for (JsonNode e : all) {
                String category = e.path("category").asText();
                if (category.equals("Component")) continue;
                String unified = e.path("unified").asText();
                if (!inSplit(unified, split, valFraction)) continue;
                List<String> shorts = new ArrayList<>();
                e.path("short_names").forEach(s -> shorts.add(humanise(s.asText())));
                String name = baseName(e.path("name").asText(), category);
                String sub = e.path("subcategory").asText();
                boolean flippable = isFlippable(name, shorts, category);
                add(out, dir, e.path("image").asText(), name, shorts, category, sub, style, unified, flippable);
                if (skinTones && e.has("skin_variations")) {
                    e.path("skin_variations").fields().forEachRemaining(v -> {
                        String tone = toneWords(v.getKey());
                        add(out, dir, v.getValue().path("image").asText(), name + ", " + tone,
                                shorts.stream().map(s -> s + ", " + tone).toList(), category, sub, style,
                                v.getValue().path("unified").asText(), flippable);
                    });
                }
            }
        }
        if (out.isEmpty()) throw new IOException("no emoji images found under " + root + " for styles " + styles);
        return new EmojiDataset(out, 0);
    }

    private static void add(List<Entry> out, Path dir, String image, String name, List<String> shorts, String category,
                            String sub, String style, String unified, boolean flippable) {
        Path p = dir.resolve("64").resolve(image);
        if (Files.isRegularFile(p)) out.add(new Entry(p, name, shorts, category, sub, style, unified, flippable));
    }

    /** Decodes every image once; drops the unreadable ones and counts them (they never stop training). */
    public EmojiDataset verifyImages() {
        List<Entry> ok = new ArrayList<>();
        int bad = 0;
        for (Entry e : entries) {
            try {
                pixels(e);
                ok.add(e);
            } catch (IOException | RuntimeException ex) {
                bad++;
            }
        }
        return new EmojiDataset(ok, unreadable + bad);
    }

    private static boolean inSplit(String unified, Split split, double valFraction) {
        if (split == Split.ALL) return true;
        long h = SyntheticScenes.mix(0xE301L, unified.hashCode());
        boolean val = Math.floorMod(h, 10_000) < valFraction * 10_000;
        return (split == Split.VAL) == val;
    }

    static String humanise(String shortName) {
        return shortName.replace('_', ' ').replace('-', ' ').trim();
    }

    /** "FATHER CHRISTMAS" → "father christmas"; "Spain Flag" → "flag of spain". */
    static String baseName(String name, String category) {
        String n = name.toLowerCase(Locale.ROOT).trim();
        if (category.equals("Flags") && n.endsWith(" flag")) {
            return "flag of " + n.substring(0, n.length() - 5);
        }
        return n;
    }

    private static String toneWords(String key) {
        String[] parts = key.split("-");
        if (parts.length == 1) return TONES.getOrDefault(parts[0], "skin tone");
        String a = TONES.getOrDefault(parts[0], "skin tone").replace(" skin tone", "");
        String b = TONES.getOrDefault(parts[1], "skin tone").replace(" skin tone", "");
        return a.equals(b) ? a + " skin tone" : a + " and " + b + " skin tones";
    }

    /** Mirroring keeps the caption true unless the emoji carries text, a flag, or a direction. */
    static boolean isFlippable(String name, List<String> shorts, String category) {
        if (category.equals("Flags") || category.equals("Symbols")) return false;
        if (CHIRAL.matcher(name).find()) return false;
        for (String s : shorts) if (CHIRAL.matcher(s).find()) return false;
        return true;
    }

    private static final String[] TEMPLATES = {
        "%s", "an emoji of %s", "%s emoji", "%s icon", "a picture of %s", "a cartoon of %s", "%s, emoji style"};
    private static final Pattern DETERMINER = Pattern.compile("^(a|an|the|\\d+)\\b.*");

    /** A caption for {@code e}: a random name (full or short) in a random template. */
    public static String caption(Entry e, Random rng) {
        List<String> names = new ArrayList<>();
        names.add(e.name());
        for (String s : e.shortNames()) if (!names.contains(s)) names.add(s);
        String n = names.get(rng.nextInt(names.size()));
        String template = TEMPLATES[rng.nextInt(TEMPLATES.length)];
        if (template.endsWith("of %s") && !DETERMINER.matcher(n).matches()) {
            n = ("aeiou".indexOf(n.charAt(0)) >= 0 ? "an " : "a ") + n;
        }
        return String.format(Locale.ROOT, template, n);
    }

    /** (3, 64, 64) in [-1, 1] over white; decoded once and cached (a copy is returned). */
    public float[] pixels(Entry e) throws IOException {
        float[] cached = cache.get(e.image());
        if (cached == null) {
            BufferedImage img = ImageIO.read(e.image().toFile());
            if (img == null) throw new IOException("not a readable image: " + e.image());
            if (img.getWidth() != 64 || img.getHeight() != 64) {
                throw new IOException(e.image() + " is " + img.getWidth() + "x" + img.getHeight() + ", expected 64x64");
            }
            cached = Images.toChw(img, 0xFFFFFF);
            cache.put(e.image(), cached);
        }
        return cached.clone();
    }

    /**
     * An endless shuffled source: epoch k visits every entry once in an order seeded by (seed, k);
     * with {@code flip}, flippable entries are mirrored with probability 1/2.
     */
    public Dataset source(long seed, boolean flip) {
        int n = entries.size();
        return new Dataset() {
            private long cachedEpoch = -1;
            private int[] order;

            @Override
            public Sample get(long position, Random rng) {
                long epoch = position / n;
                int[] perm = permutation(epoch);
                Entry e = entries.get(perm[(int) (position % n)]);
                float[] px;
                try {
                    px = pixels(e);
                } catch (IOException ex) {
                    throw new IllegalStateException(ex.getMessage() + " (call verifyImages() to skip unreadable files)", ex);
                }
                if (flip && e.flippable() && rng.nextBoolean()) Images.flipHorizontal(px, 64, 64);
                return new Sample(px, caption(e, rng), null);
            }

            private synchronized int[] permutation(long epoch) {
                if (epoch != cachedEpoch) {
                    int[] p = new int[n];
                    for (int i = 0; i < n; i++) p[i] = i;
                    Random r = new Random(SyntheticScenes.mix(seed, epoch));
                    for (int i = n - 1; i > 0; i--) {
                        int j = r.nextInt(i + 1);
                        int t = p[i]; p[i] = p[j]; p[j] = t;
                    }
                    order = p;
                    cachedEpoch = epoch;
                }
                return order;
            }
        };
    }
}
