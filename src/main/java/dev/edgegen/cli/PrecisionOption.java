package dev.edgegen.cli;

import dev.edgegen.tensor.Autocast;
import picocli.CommandLine.Option;

/** The shared `--precision` option: float32, or convolutions and linear layers in bfloat16 ({@link Autocast}). */
final class PrecisionOption {
    @Option(names = "--precision", paramLabel = "float32|bfloat16",
            description = "float32 (default), or bfloat16: convolutions and linear layers compute in bfloat16, the rest in "
                    + "float32 (torch.autocast's CPU policy). On a CPU with AVX512-BF16 it speeds up SD-sized models; "
                    + "the small built-in model is not faster. The image differs slightly.")
    String precision = "float32";

    /** A scope in which the command's models run at the chosen precision; close it when done. */
    Autocast.Scope apply() {
        return Autocast.Precision.of(precision)
                .orElseThrow(() -> new IllegalArgumentException("--precision must be float32 or bfloat16, got \"" + precision + "\""))
                .scope();
    }
}
