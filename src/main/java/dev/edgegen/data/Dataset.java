package dev.edgegen.data;

import java.util.Random;

/**
 * A source of samples addressed by a global sample position (0, 1, 2, … across epochs). The
 * sample at a position depends only on the position and {@code rng}, which the loader derives
 * from (seed, position), so the data order is reproducible and resumable from a position alone.
 * Implementations must be safe to call from several threads.
 */
public interface Dataset {
    Sample get(long position, Random rng);
}
