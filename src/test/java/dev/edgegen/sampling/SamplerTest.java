package dev.edgegen.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplerTest {
    @Test
    void createsEachSamplerByCliName() {
        SchedulerConfig c = SchedulerConfig.sd15();
        assertInstanceOf(DdimScheduler.class, Sampler.byName("ddim").create(c));
        assertInstanceOf(EulerScheduler.class, Sampler.byName("euler").create(c));
        assertInstanceOf(EulerAncestralScheduler.class, Sampler.byName("Euler-A").create(c));
        assertInstanceOf(DpmSolverMultistepScheduler.class, Sampler.byName("dpmpp_2m").create(c));
        assertInstanceOf(LcmScheduler.class, Sampler.byName("lcm").create(c));
        for (Sampler s : Sampler.values()) {
            Scheduler sch = s.create(c);
            sch.setTimesteps(4);
            assertEquals(4, sch.timesteps().length, s.cliName());
        }
    }

    @Test
    void karrasVariantUsesKarrasSigmas() {
        SchedulerConfig c = SchedulerConfig.sd15();
        Scheduler plain = Sampler.DPMPP_2M.create(c.with(java.util.Map.of("use_karras_sigmas", true)));
        Scheduler karras = Sampler.DPMPP_2M_KARRAS.create(c);
        plain.setTimesteps(10);
        karras.setTimesteps(10);
        assertNotEquals(plain.timesteps()[1], karras.timesteps()[1]);
        Scheduler reference = new DpmSolverMultistepScheduler(c.with(java.util.Map.of("use_karras_sigmas", true)));
        reference.setTimesteps(10);
        assertEquals(reference.timesteps()[1], karras.timesteps()[1]);
    }

    @Test
    void unknownNameListsTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sampler.byName("heun"));
        assertTrue(e.getMessage().contains("heun"));
        for (Sampler s : Sampler.values()) {
            assertTrue(e.getMessage().contains(s.cliName()), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Sampler.byName(null));
    }
}
