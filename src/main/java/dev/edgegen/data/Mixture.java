package dev.edgegen.data;

import java.util.List;
import java.util.Random;

/** Draws each sample from one of several sources with fixed probabilities (chosen by the sample's rng). */
public record Mixture(List<Dataset> sources, double[] weights) implements Dataset {
    public Mixture {
        if (sources.isEmpty() || sources.size() != weights.length) {
            throw new IllegalArgumentException("need one weight per source, got " + sources.size() + " sources and " + weights.length + " weights");
        }
        for (double w : weights) if (!(w >= 0)) throw new IllegalArgumentException("weights must be >= 0");
    }

    @Override
    public Sample get(long position, Random rng) {
        double total = 0;
        for (double w : weights) total += w;
        double u = rng.nextDouble() * total;
        for (int i = 0; i < weights.length; i++) {
            u -= weights[i];
            if (u < 0) return sources.get(i).get(position, rng);
        }
        return sources.get(sources.size() - 1).get(position, rng);
    }
}
