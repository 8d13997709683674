package dev.edgegen.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmojiDatasetTest {
    static final Path ROOT = Path.of("data/emoji");

    @BeforeAll
    static void fetch() throws IOException, InterruptedException {
        if (!Files.isRegularFile(ROOT.resolve("google/emoji.json"))) {
            Process p = new ProcessBuilder("bash", "scripts/fetch-emoji.sh", "google").inheritIO().start();
            assertEquals(0, p.waitFor(), "scripts/fetch-emoji.sh failed");
        }
    }

    static EmojiDataset.Entry find(EmojiDataset d, String name) {
        return d.entries().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
    }

    @Test
    void namesFlagsTonesAndSplits() throws IOException {
        EmojiDataset base = EmojiDataset.load(ROOT, List.of("google"), EmojiDataset.Split.ALL, 0.05, false);
        EmojiDataset tones = EmojiDataset.load(ROOT, List.of("google"), EmojiDataset.Split.ALL, 0.05, true);
        assertTrue(base.entries().size() > 1850, "entries: " + base.entries().size());
        assertTrue(tones.entries().size() > 3700, "with tones: " + tones.entries().size());
        EmojiDataset.Entry apple = find(base, "red apple");
        assertTrue(apple.shortNames().contains("apple"), apple.toString());
        assertTrue(apple.flippable());
        assertFalse(find(base, "flag of spain").flippable());
        assertFalse(find(base, "black right-pointing triangle").flippable());
        assertTrue(tones.entries().stream().anyMatch(e -> e.name().equals("father christmas, medium skin tone")));
        assertTrue(base.entries().stream().noneMatch(e -> e.category().equals("Component")));

        EmojiDataset train = EmojiDataset.load(ROOT, List.of("google"), EmojiDataset.Split.TRAIN, 0.05, false);
        EmojiDataset val = EmojiDataset.load(ROOT, List.of("google"), EmojiDataset.Split.VAL, 0.05, false);
        assertEquals(base.entries().size(), train.entries().size() + val.entries().size());
        Set<String> trainCodes = new HashSet<>();
        train.entries().forEach(e -> trainCodes.add(e.unified()));
        val.entries().forEach(e -> assertFalse(trainCodes.contains(e.unified())));
        double frac = val.entries().size() / (double) base.entries().size();
        assertTrue(frac > 0.03 && frac < 0.07, "val fraction " + frac);
    }

    @Test
    void samplesArePixelsOverWhiteWithTrueCaptions() throws IOException {
        EmojiDataset d = EmojiDataset.load(ROOT, List.of("google"), EmojiDataset.Split.ALL, 0.05, false);
        EmojiDataset.Entry apple = find(d, "red apple");
        float[] px = d.pixels(apple);
        assertEquals(3 * 64 * 64, px.length);
        assertEquals(1f, px[0], 1e-6f, "transparent corner becomes white");
        float redCentre = px[32 * 64 + 32], blueCentre = px[2 * 4096 + 32 * 64 + 32];
        assertTrue(redCentre > blueCentre + 0.5f, "apple is red");
        Random rng = new Random(1);
        for (int i = 0; i < 20; i++) {
            String c = EmojiDataset.caption(apple, rng);
            assertTrue(c.contains("apple"), c);
        }
        Dataset src = d.source(3, true);
        Set<String> seen = new HashSet<>();
        for (int k = 0; k < 50; k++) seen.add(src.get(k, DataLoader.sampleRandom(1, k)).caption());
        assertTrue(seen.size() > 40, "shuffled, varied captions");
    }

    @Test
    void unreadableImagesAreSkippedAndCounted(@TempDir Path dir) throws IOException {
        Path style = dir.resolve("google");
        Files.createDirectories(style.resolve("64"));
        Files.copy(ROOT.resolve("google/64/1f34e.png"), style.resolve("64/1f34e.png"));
        Files.writeString(style.resolve("64/1f34f.png"), "not a png");
        Files.writeString(style.resolve("emoji.json"), "[{\"name\":\"RED APPLE\",\"unified\":\"1F34E\",\"image\":\"1f34e.png\","
                + "\"short_names\":[\"apple\"],\"category\":\"Food & Drink\",\"subcategory\":\"food-fruit\"},"
                + "{\"name\":\"GREEN APPLE\",\"unified\":\"1F34F\",\"image\":\"1f34f.png\",\"short_names\":[\"green_apple\"],"
                + "\"category\":\"Food & Drink\",\"subcategory\":\"food-fruit\"}]");
        EmojiDataset d = EmojiDataset.load(dir, List.of("google"), EmojiDataset.Split.ALL, 0.05, false).verifyImages();
        assertEquals(1, d.entries().size());
        assertEquals(1, d.unreadable());
        assertEquals("green apple", EmojiDataset.humanise("green_apple"));
    }
}
