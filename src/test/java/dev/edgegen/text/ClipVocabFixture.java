package dev.edgegen.text;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The real CLIP vocabulary for tests: runs scripts/fetch-clip-vocab.sh once if data/ lacks it. */
final class ClipVocabFixture {
    private static ClipTokenizer tokenizer;

    private ClipVocabFixture() {}

    static synchronized Path dir() {
        Path dir = ClipTokenizer.FETCHED_VOCABULARY;
        if (!Files.isRegularFile(dir.resolve("vocab.json"))) {
            try {
                Process p = new ProcessBuilder("bash", "scripts/fetch-clip-vocab.sh").inheritIO().start();
                int code = p.waitFor();
                if (code != 0) {
                    throw new IllegalStateException("scripts/fetch-clip-vocab.sh failed with exit code " + code
                            + " (needs npm and node with access to the npm registry)");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot run scripts/fetch-clip-vocab.sh", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return dir;
    }

    static synchronized ClipTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ClipTokenizer.load(dir());
        }
        return tokenizer;
    }
}
