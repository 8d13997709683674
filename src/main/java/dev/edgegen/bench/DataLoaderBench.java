package dev.edgegen.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.edgegen.data.DataLoader;
import dev.edgegen.data.Dataset;
import dev.edgegen.data.EmojiDataset;
import dev.edgegen.data.SyntheticScenes;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Samples per second the data loader delivers (batches of 32, after one warm-up epoch of emoji decoding). */
public final class DataLoaderBench {
    private DataLoaderBench() {}

    public static void main(String[] args) throws Exception {
        EmojiDataset emoji = EmojiDataset.load(Path.of("data/emoji"), List.of("google"), EmojiDataset.Split.TRAIN, 0.05, false);
        Map<String, Dataset> sets = Map.of(
                "synthetic scenes", SyntheticScenes.source(SyntheticScenes.Split.TRAIN),
                "emoji (decoded, cached)", emoji.source(0, true));
        emoji.verifyImages(); // decodes every PNG once into the cache
        ObjectMapper json = new ObjectMapper();
        ArrayNode rows = json.createArrayNode();
        for (var e : sets.entrySet()) {
            for (int threads : new int[] {1, 2}) {
                try (DataLoader l = new DataLoader(e.getValue(), 32, threads, 0)) {
                    l.next();
                    long t0 = System.nanoTime();
                    int batches = 40;
                    for (int i = 0; i < batches; i++) l.next();
                    double secs = (System.nanoTime() - t0) / 1e9;
                    rows.addObject().put("dataset", e.getKey()).put("threads", threads)
                            .put("samples_per_s", Math.round(batches * 32 / secs));
                }
            }
        }
        System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(rows));
    }
}
