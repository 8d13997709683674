package dev.edgegen.eval;

import dev.edgegen.data.Scene;
import dev.edgegen.data.SyntheticScenes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Fixed evaluation prompts: synthetic prompts with their ground-truth scene, and emoji names for grids. */
public final class PromptSets {
    private PromptSets() {}

    /** A prompt and the scene it asks for (null for prompts without ground truth). */
    public record Prompt(String text, Scene scene) {}

    /**
     * The first {@code n} distinct canonical prompts ("a red star", "a red star to the left of a blue
     * square") of {@code split} scenes with {@code objects} objects. HELD_OUT prompts name a
     * colour+shape pair the generator never saw.
     */
    public static List<Prompt> synthetic(SyntheticScenes.Split split, int objects, int n) {
        if (objects < 1 || objects > 3) throw new IllegalArgumentException("objects must be 1, 2 or 3, got " + objects);
        List<Prompt> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (long i = 0; out.size() < n && i < 20L * n + 2000; i++) {
            Scene s = SyntheticScenes.scene(split, i, objects);
            String text = SyntheticScenes.prompt(s);
            if (seen.add(text)) out.add(new Prompt(text, s));
        }
        if (out.size() < n) throw new IllegalArgumentException("only " + out.size() + " distinct prompts exist for " + split + " with " + objects + " object(s)");
        return out;
    }

    /** Sixteen well-known emoji prompts for the README grid. */
    public static List<Prompt> emojiGrid() {
        String[] names = {"a red apple", "a dog face", "a cat face", "a grinning face", "a red heart", "a pizza",
            "a rocket", "a sun with face", "an umbrella", "a fire", "a birthday cake", "a snowman",
            "a rainbow", "a banana", "a car", "a christmas tree"};
        List<Prompt> out = new ArrayList<>();
        for (String n : names) out.add(new Prompt(n, null));
        return out;
    }
}
