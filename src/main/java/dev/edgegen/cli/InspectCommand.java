package dev.edgegen.cli;

import dev.edgegen.pipeline.Architecture;
import dev.edgegen.pipeline.ModelConfigs;
import dev.edgegen.text.ClipTextModel;
import dev.edgegen.unet.UNet2DConditionModel;
import dev.edgegen.vae.AutoencoderKL;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Components, parameter counts and GFLOPs of a model (no weights are loaded).")
final class InspectCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = {"-m", "--model"}, description = "Diffusers model directory.")
        Path model;

        @Option(names = "--arch", description = "sd15, bk-sdm-small, bk-sdm-tiny or tiny.")
        String arch;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Source source;

    @Option(names = {"-W", "--width"}, description = "Image width (default: the model's native size).")
    Integer width;

    @Option(names = {"-H", "--height"}, description = "Image height (default: the model's native size).")
    Integer height;

    @Override
    public Integer call() {
        ModelConfigs c;
        if (source != null && source.arch != null) {
            Architecture a = Architecture.fromName(source.arch);
            c = ModelConfigs.of(a);
        } else {
            Path p = source != null && source.model != null ? source.model : DefaultModel.path();
            c = ModelConfigs.read(p);
        }
        UNet2DConditionModel unet = new UNet2DConditionModel(c.unet());
        AutoencoderKL vae = new AutoencoderKL(c.vae());
        int side = c.unet().sampleSize() * c.vae().downscale();
        int w = width != null ? width : side;
        int h = height != null ? height : side;
        int f = c.vae().downscale();
        if (w % f != 0 || h % f != 0) {
            throw new IllegalArgumentException("width and height must be multiples of " + f + " (got " + w + "x" + h + ")");
        }
        int ctx = c.contextLength();
        double unet1 = unet.flops(1, h / f, w / f, ctx) / 1e9;
        double unet2 = unet.flops(2, h / f, w / f, ctx) / 1e9;
        double dec = vae.decodeFlops(1, h / f, w / f) / 1e9;
        PrintfOut o = new PrintfOut();
        o.p("model            %s%n", c.name());
        o.p("image            %dx%d (latent %dx%dx%d)%n", w, h, c.unet().inChannels(), h / f, w / f);
        if (c.clip() != null) {
            o.p("text encoder     %,15d params  (CLIP, %d layers, width %d)%n", new ClipTextModel(c.clip()).parameterCount(),
                    c.clip().numHiddenLayers(), c.clip().hiddenSize());
        } else {
            o.p("text encoder     %,15d params  (all-MiniLM-L6-v2, frozen, weights from its Maven artifact; %d tokens)%n",
                    new dev.edgegen.text.MiniLm(dev.edgegen.text.MiniLm.Config.allMiniLmL6V2()).parameterCount(), ctx);
        }
        o.p("unet             %,15d params  %9.1f GFLOPs/eval (batch 1), %9.1f (batch 2, one CFG step)%n",
                unet.parameterCount(), unet1, unet2);
        o.p("vae decoder      %,15d params  %9.1f GFLOPs/decode  (decoder.*; %,d with post_quant_conv)%n",
                vae.decoder.parameterCount(), dec, vae.decoderParameterCount());
        o.p("vae encoder      %,15d params  %9.1f GFLOPs/encode%n", vae.encoderParameterCount(), vae.encodeFlops(1, h, w) / 1e9);
        return 0;
    }

    private static final class PrintfOut {
        void p(String fmt, Object... args) {
            System.out.print(String.format(Locale.ROOT, fmt, args));
        }
    }
}
