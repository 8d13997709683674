package dev.edgegen.pipeline;

import dev.edgegen.sampling.SchedulerConfig;
import dev.edgegen.text.ClipTextConfig;
import dev.edgegen.unet.UNetConfig;
import dev.edgegen.vae.VAEConfig;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Named model layouts `edgegen init` and `inspect --arch` know: each is a set of configs. */
public enum Architecture {
    SD15("sd15", UNetConfig.sd15(), VAEConfig.sd15(), ClipTextConfig.vitL14()),
    BK_SDM_SMALL("bk-sdm-small", UNetConfig.bkSdmSmall(), VAEConfig.sd15(), ClipTextConfig.vitL14()),
    BK_SDM_TINY("bk-sdm-tiny", UNetConfig.bkSdmTiny(), VAEConfig.sd15(), ClipTextConfig.vitL14()),
    /** A few-hundred-thousand-parameter model for tests and first runs: 64x64 images. */
    TINY("tiny", UNetConfig.tiny(), new VAEConfig(3, 3, 4, List.of(16, 32, 32, 32), 1, 8, 0.18215f, 64),
            ClipTextConfig.tiny());

    public final String cliName;
    public final UNetConfig unet;
    public final VAEConfig vae;
    public final ClipTextConfig text;

    Architecture(String cliName, UNetConfig unet, VAEConfig vae, ClipTextConfig text) {
        this.cliName = cliName;
        this.unet = unet;
        this.vae = vae;
        this.text = text;
    }

    public SchedulerConfig scheduler() {
        return SchedulerConfig.sd15();
    }

    public static Architecture fromName(String name) {
        for (Architecture a : values()) {
            if (a.cliName.equalsIgnoreCase(name)) return a;
        }
        throw new IllegalArgumentException("unknown architecture '" + name + "'; known: "
                + Arrays.stream(values()).map(a -> a.cliName).collect(Collectors.joining(", ")));
    }
}
