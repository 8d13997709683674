package dev.edgegen.train;

/** The loss or the gradient norm became NaN or infinite; the message names the step and the last good checkpoint. */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    public TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The 0-based step whose loss was not finite. */
    public long step() { return step; }
}
