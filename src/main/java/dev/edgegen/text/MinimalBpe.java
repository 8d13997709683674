package dev.edgegen.text;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Learns byte-level BPE merges from a word list (Sennrich et al. 2016): repeatedly merge the most
 * frequent adjacent symbol pair, the last symbol of each word carrying "</w>". Ties go to the
 * lexicographically smallest pair, so the result is deterministic.
 */
final class MinimalBpe {
    static final int DEFAULT_MERGES = 400;

    private MinimalBpe() {}

    /** words: byte-mapped words (one entry per occurrence) → at most maxMerges merges, most frequent first. */
    static List<String[]> learn(List<String> words, int maxMerges) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String w : words) {
            counts.merge(w, 1, Integer::sum);
        }
        List<List<String>> symbols = new ArrayList<>();
        List<Integer> freq = new ArrayList<>();
        counts.forEach((w, c) -> {
            List<String> s = new ArrayList<>();
            for (int i = 0; i < w.length(); i++) {
                s.add(i == w.length() - 1 ? w.charAt(i) + ClipTokenizer.END_OF_WORD : String.valueOf(w.charAt(i)));
            }
            symbols.add(s);
            freq.add(c);
        });
        List<String[]> merges = new ArrayList<>();
        while (merges.size() < maxMerges) {
            Map<String, Integer> pairs = new HashMap<>();
            for (int k = 0; k < symbols.size(); k++) {
                List<String> s = symbols.get(k);
                for (int i = 0; i + 1 < s.size(); i++) {
                    pairs.merge(s.get(i) + " " + s.get(i + 1), freq.get(k), Integer::sum);
                }
            }
            String best = null;
            int bestCount = 1;
            for (var e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) {
                break;
            }
            String[] pair = best.split(" ");
            merges.add(pair);
            for (int k = 0; k < symbols.size(); k++) {
                symbols.set(k, apply(symbols.get(k), pair[0], pair[1]));
            }
        }
        return merges;
    }

    private static List<String> apply(List<String> s, String first, String second) {
        List<String> out = new ArrayList<>(s.size());
        for (int i = 0; i < s.size(); i++) {
            if (i + 1 < s.size() && s.get(i).equals(first) && s.get(i + 1).equals(second)) {
                out.add(first + second);
                i++;
            } else {
                out.add(s.get(i));
            }
        }
        return out;
    }
}
