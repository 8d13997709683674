package dev.edgegen.sampling;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The samplers by CLI name ({@code --sampler}), each with the diffusers class its config belongs to. */
public enum Sampler {
    DDIM("ddim", "DDIMScheduler", DdimScheduler::new),
    EULER("euler", "EulerDiscreteScheduler", EulerScheduler::new),
    EULER_A("euler_a", "EulerAncestralDiscreteScheduler", EulerAncestralScheduler::new),
    DPMPP_2M("dpmpp_2m", "DPMSolverMultistepScheduler",
            c -> new DpmSolverMultistepScheduler(c.with(Map.of("solver_order", 2, "use_karras_sigmas", false)))),
    DPMPP_2M_KARRAS("dpmpp_2m_karras", "DPMSolverMultistepScheduler",
            c -> new DpmSolverMultistepScheduler(c.with(Map.of("solver_order", 2, "use_karras_sigmas", true)))),
    LCM("lcm", "LCMScheduler", LcmScheduler::new);

    private final String cliName;
    private final String diffusersClass;
    private final Function<SchedulerConfig, Scheduler> factory;

    Sampler(String cliName, String diffusersClass, Function<SchedulerConfig, Scheduler> factory) {
        this.cliName = cliName;
        this.diffusersClass = diffusersClass;
        this.factory = factory;
    }

    public String cliName() {
        return cliName;
    }

    /** diffusers' class name, for the {@code _class_name} of a written scheduler config. */
    public String diffusersClass() {
        return diffusersClass;
    }

    /** A fresh scheduler on {@code config}'s noise schedule (dpmpp_2m* force order 2 and their sigmas). */
    public Scheduler create(SchedulerConfig config) {
        return factory.apply(config);
    }

    /** The sampler called {@code name} (case-insensitive; '-' accepted for '_'). */
    public static Sampler byName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return Arrays.stream(values()).filter(s -> s.cliName.equals(key)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("Unknown sampler '" + name + "'; valid: " + names()));
    }

    /** The valid CLI names, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(Sampler::cliName).collect(Collectors.joining(", "));
    }
}
