package dev.edgegen.io;

/** A weights file or state dict that cannot be used; the message names the file and the problem. */
public final class WeightsException extends RuntimeException {
    public WeightsException(String message) {
        super(message);
    }

    public WeightsException(String message, Throwable cause) {
        super(message, cause);
    }
}
