package dev.edgegen.cli;

import ai.djl.ndarray.NDManager;
import dev.edgegen.train.TrainedModels;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a trained UNet run (EMA weights + its autoencoder) as a diffusers model directory.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "The UNet run directory (the \"output\" of its config).")
    Path run;

    @Option(names = {"-o", "--output"}, required = true, description = "Model directory to write (replaced if it exists).")
    Path output;

    @Option(names = "--vae-run", description = "Take the decoder from this autoencoder run (fine-tuned with the encoder frozen).")
    Path vaeRun;

    @Option(names = "--half", description = "Store the weights as float16 (half the size; loaded back as float32).")
    boolean half;

    @Override
    public Integer call() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            TrainedModels.export(run, vaeRun, output, half, m);
        }
        System.err.println("edgegen: wrote " + output);
        return 0;
    }
}
