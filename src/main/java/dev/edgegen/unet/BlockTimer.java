package dev.edgegen.unet;

/** Receives the wall time of each block of a forward pass, under the paths {@link BlockCost} uses. */
@FunctionalInterface
public interface BlockTimer {
    void record(String path, long nanos);
}
