package dev.edgegen.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipTokenizerTest {

    private static int[] prefix(ClipTokenizer.Tokens t) {
        return Arrays.copyOf(t.ids(), t.length());
    }

    /** Ids published for OpenAI's CLIP / Hugging Face CLIPTokenizer (sources in the comments). */
    @Test
    void matchesPublishedClipIds() {
        ClipTokenizer tok = ClipVocabFixture.tokenizer();
        // emgucv/emgucv Emgu.CV.Test/AutoTestModels.cs (checked against HF CLIPTokenizer); zer0int/CLIP-tokenizer README
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 2368, 49407}, prefix(tok.encode("a photo of a cat")));
        assertArrayEquals(new int[] {49406, 3306, 267, 1002, 256, 272, 273, 274, 49407}, prefix(tok.encode("Hello, World! 123")));
        // apple/ml-stable-diffusion swift/StableDiffusionTests/StableDiffusionTests.swift
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407},
                prefix(tok.encode("a photo of an astronaut riding a horse on mars")));
        assertArrayEquals(new int[] {49406, 3055, 19622, 5780, 10929, 5771, 525, 320, 20617, 1922, 631, 1953, 49407},
                prefix(tok.encode("Apple CoreML developer tools on a Macbook Air are fast")));
        // nishio/external_brain_in_markdown pages/CLIP.md (output of openai clip.tokenize)
        assertArrayEquals(new int[] {49406, 320, 3086, 539, 320, 2368, 49407}, prefix(tok.encode("a painting of a cat")));
        assertArrayEquals(new int[] {49406, 647, 4091, 786, 49407}, prefix(tok.encode("bozuman")));
    }

    /**
     * huggingface/transformers tests/models/clip/test_tokenization_clip.py, integration_expected_token_ids
     * for the shared input of test_tokenization_common.py: emoji, accents, Chinese, Thai combining marks,
     * runs of spaces and newlines, angle brackets.
     */
    @Test
    void matchesTransformersIntegrationIdsOnNonAsciiText() {
        String input = "This is a test 😊\nI was born in 92000, and this is falsé.\n生活的真谛是\nHi  Hello\nHi   Hello\n\n \n  \n Hello\n"
                + "<s>\nhi<s>there\nThe following string should be properly encoded: Hello.\nBut ird and ปี   ird   ด\nHey how are you doing";
        int[] expected = {589, 533, 320, 1628, 3020, 328, 739, 2683, 530, 280, 273, 271, 271, 271, 267, 537, 589, 533, 2778, 82,
                4166, 269, 33375, 162, 112, 119, 163, 248, 226, 41570, 164, 108, 249, 42891, 363, 1883, 3306, 1883, 3306, 3306,
                283, 338, 285, 1883, 283, 338, 285, 997, 518, 3473, 9696, 1535, 655, 12560, 524, 33703, 281, 3306, 269, 767,
                2770, 537, 1777, 505, 20278, 2770, 38825, 2189, 829, 631, 592, 1960};
        assertArrayEquals(expected, ClipVocabFixture.tokenizer().tokenize(input));
    }

    /** Independent cross-check: the JavaScript port in the npm package, on ASCII prompts (its byte mapping is ASCII-only). */
    @Test
    void agreesWithClipBpeJsOnAsciiPrompts() throws Exception {
        List<String> prompts = List.of(
                "it's a dog's life, they're here; we've seen what i'm doing. you'll see, he'd go",
                "IT'S LOUD!!! ... (really?) [yes] {no} <maybe> @home #1 $5 %20 ^_^ ~tilde~ `back` |pipe| \\slash/",
                "1234567890 3.14159 2024-11-22 12:30pm 4k 8K 1080p x2",
                "  multiple   spaces\tand\ttabs\nand\nnewlines   ",
                "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
                "masterpiece, best quality, ultra-detailed, photorealistic, octane render, trending on artstation",
                "a cyberpunk city at night, neon lights, rain, reflections, by greg rutkowski and alphonse mucha",
                "<|startoftext|>hello<|endoftext|> world",
                "don't can't won't shouldn't o'clock rock'n'roll ''quoted''",
                "e=mc^2; a+b=c; 50% off; c++ & c#; snake_case camelCase kebab-case");
        Path mod = ClipVocabFixture.dir().resolveSibling("package").resolve("esm").resolve("mod.js").toAbsolutePath();
        String script = "import T from " + new ObjectMapper().writeValueAsString(mod.toUri().toString()) + ";"
                + "const t = new T(); let s = ''; process.stdin.on('data', d => s += d);"
                + "process.stdin.on('end', () => console.log(JSON.stringify(JSON.parse(s).map(p => t.encode(p)))));";
        Process p = new ProcessBuilder("node", "--input-type=module", "-e", script).redirectErrorStream(true).start();
        p.getOutputStream().write(new ObjectMapper().writeValueAsBytes(prompts));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        int[][] expected = new ObjectMapper().readValue(out, int[][].class);
        ClipTokenizer tok = ClipVocabFixture.tokenizer();
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(expected[i], tok.tokenize(prompts.get(i)), prompts.get(i));
        }
    }

    @Test
    void normalisesCaseWhitespaceAndUnicodeComposition() {
        ClipTokenizer tok = ClipVocabFixture.tokenizer();
        assertArrayEquals(tok.encode("a photo of a cat").ids(), tok.encode("  A  Photo\tof a\n CAT ").ids());
        // a + combining tilde and precomposed ã must tokenize alike (NFC), as transformers' slow/fast test demands
        assertArrayEquals(tok.tokenize("x\u00e3y"), tok.tokenize("xa\u0303y"));
        assertEquals(0, tok.tokenize(" \t\n ").length);
    }

    @Test
    void padsWithEndTokenAndTruncatesLongPrompts() {
        ClipTokenizer tok = ClipVocabFixture.tokenizer();
        ClipTokenizer.Tokens t = tok.encode("a photo of a cat");
        assertEquals(77, t.ids().length);
        assertEquals(7, t.length());
        assertFalse(t.truncated());
        for (int i = 7; i < 77; i++) {
            assertEquals(49407, t.ids()[i]);
        }
        ClipTokenizer.Tokens empty = tok.encode("");
        assertArrayEquals(new int[] {49406, 49407}, prefix(empty));

        ClipTokenizer.Tokens exact = tok.encode("cat ".repeat(75));
        assertFalse(exact.truncated());
        assertEquals(77, exact.length());
        ClipTokenizer.Tokens longer = tok.encode("cat ".repeat(100));
        assertTrue(longer.truncated());
        assertEquals(100, longer.promptTokens());
        assertEquals(77, longer.length());
        assertEquals(49406, longer.ids()[0]);
        assertEquals(2368, longer.ids()[75]);
        assertEquals(49407, longer.ids()[76]);
    }

    /** SD-2.x tokenizers pad with "!" (id 0); the pad token comes from special_tokens_map.json. */
    @Test
    void readsPadTokenAndMaxLengthFromConfig(@TempDir Path dir) throws IOException {
        Path real = ClipVocabFixture.dir();
        Files.copy(real.resolve("vocab.json"), dir.resolve("vocab.json"));
        Files.copy(real.resolve("merges.txt"), dir.resolve("merges.txt"));
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"pad_token\": {\"content\": \"!\", \"lstrip\": false}, \"unk_token\": \"<|endoftext|>\"}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 16, \"pad_token\": \"<|endoftext|>\"}");
        ClipTokenizer tok = ClipTokenizer.load(dir);
        ClipTokenizer.Tokens t = tok.encode("a photo of a cat");
        assertEquals(16, t.ids().length);
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 2368, 49407, 0, 0, 0, 0, 0, 0, 0, 0, 0}, t.ids());

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 1000000000000000019884624838656}");
        assertEquals(77, ClipTokenizer.load(dir).maxLength());
    }

    /** The toy vocabulary of transformers' CLIPTokenizationTest.test_full_tokenizer, unknown symbols → unk. */
    @Test
    void matchesTransformersToyVocabulary(@TempDir Path dir) throws IOException {
        List<String> vocab = List.of("l", "o", "w", "e", "r", "s", "t", "i", "d", "n", "lo", "l</w>", "w</w>", "r</w>", "t</w>",
                "low</w>", "er</w>", "lowest</w>", "newer</w>", "wider", "<unk>", "<|startoftext|>", "<|endoftext|>");
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; i < vocab.size(); i++) {
            json.append(i == 0 ? "" : ",").append('"').append(vocab.get(i)).append("\":").append(i);
        }
        Files.writeString(dir.resolve("vocab.json"), json.append('}').toString());
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nl o\nlo w</w>\ne r</w>\n");
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"unk_token\": \"<unk>\"}");
        ClipTokenizer tok = ClipTokenizer.load(dir);
        assertArrayEquals(new int[] {10, 2, 16, 9, 3, 2, 16}, tok.tokenize("lower newer"));
        assertArrayEquals(new int[] {15, 20}, tok.tokenize("low x"));
    }

    @Test
    void decodesBackToNormalisedText() {
        ClipTokenizer tok = ClipVocabFixture.tokenizer();
        // "😊!" is one pre-token: neither character is a letter or digit
        assertEquals("a photo of a café , 😊!", tok.decode(tok.encode("A photo of a Café, 😊!").ids()));
        assertEquals("生活的真谛是", tok.decode(tok.tokenize("生活的真谛是")));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {60000}));
    }

    @Test
    void rejectsBadInputWithActionableMessages(@TempDir Path dir) throws IOException {
        var missing = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(missing.getMessage().contains("fetch-clip-vocab.sh"), missing.getMessage());
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0, \"<|startoftext|>\": 1, \"<|endoftext|>\": 2}");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\nthree part merge\n");
        var bad = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(bad.getMessage().contains("line 3"), bad.getMessage());
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        var special = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(special.getMessage().contains("<|startoftext|>"), special.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClipVocabFixture.tokenizer().encode(null));
    }

    @Test
    void minimalVocabularyIsAWorkingByteLevelBpe(@TempDir Path dir) throws IOException {
        ClipTokenizer.writeMinimalVocabulary(dir);
        Map<String, Integer> vocab = new ObjectMapper().readValue(dir.resolve("vocab.json").toFile(),
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, Integer>>() {});
        assertEquals(vocab.size(), vocab.values().stream().distinct().count(), "ids are unique");
        assertTrue(vocab.values().stream().allMatch(id -> id >= 0 && id < 49408));
        assertEquals(49406, vocab.get("<|startoftext|>"));
        assertEquals(49407, vocab.get("<|endoftext|>"));
        assertEquals(0, vocab.get("!"));
        assertEquals(256, vocab.get("!</w>"));
        long merges = Files.readAllLines(dir.resolve("merges.txt")).stream().filter(l -> !l.startsWith("#")).count();
        assertTrue(merges >= 200 && merges <= 400, "merges: " + merges);

        ClipTokenizer tok = ClipTokenizer.load(dir);
        ClipTokenizer.Tokens t = tok.encode("A photo of a cat, 3 dogs & 😊 in Zürich");
        assertEquals(49406, t.ids()[0]);
        assertEquals(49407, t.ids()[t.length() - 1]);
        assertTrue(Arrays.stream(t.ids()).allMatch(id -> id < 49408));
        assertEquals("a photo of a cat , 3 dogs & 😊 in zürich", tok.decode(t.ids()));
        assertEquals(1, tok.tokenize("the").length, "common words are single tokens");
        assertEquals(1, tok.tokenize("photo").length);
        // the real CLIP byte ids coincide with the minimal ones
        ClipTokenizer real = ClipVocabFixture.tokenizer();
        assertArrayEquals(real.tokenize("x"), tok.tokenize("x"));
    }

    @Test
    void writeVocabularyPrefersTheRealOne(@TempDir Path tmp) {
        String old = System.getProperty(ClipTokenizer.VOCABULARY_PROPERTY);
        try {
            System.setProperty(ClipTokenizer.VOCABULARY_PROPERTY, ClipVocabFixture.dir().toString());
            assertEquals(ClipTokenizer.VocabularySource.REAL_CLIP, ClipTokenizer.writeVocabulary(tmp.resolve("real")));
            assertEquals(1125, ClipTokenizer.load(tmp.resolve("real")).tokenize("photo")[0]);
            System.setProperty(ClipTokenizer.VOCABULARY_PROPERTY, tmp.resolve("nowhere").toString());
            assertEquals(ClipTokenizer.VocabularySource.MINIMAL, ClipTokenizer.writeVocabulary(tmp.resolve("minimal")));
            assertEquals(49406, ClipTokenizer.load(tmp.resolve("minimal")).startId());
        } finally {
            if (old == null) {
                System.clearProperty(ClipTokenizer.VOCABULARY_PROPERTY);
            } else {
                System.setProperty(ClipTokenizer.VOCABULARY_PROPERTY, old);
            }
        }
    }
}
