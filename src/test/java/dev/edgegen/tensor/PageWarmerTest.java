package dev.edgegen.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageWarmerTest {
    @Test
    void findsTheLibraryMappedAtFileOffsetZero() {
        List<String> maps = List.of(
                "7f7de9000000-7f7de9800000 rw-p 00000000 00:00 0 ",
                "7f7de9800000-7f7dfe1bc000 r-xp 00000000 fe:00 16039951                   /x/libtorch_cpu.so",
                "7f7dfe1bc000-7f7dfe417000 r--p 149bb000 fe:00 16039951                   /x/libtorch_cpu.so",
                "7f7e00000000-7f7e00001000 r-xp 00000000 fe:00 1                          /x/libtorch_cpu.so.bak");
        PageWarmer.Mapping m = PageWarmer.findMapping(maps).orElseThrow();
        assertEquals(0x7f7de9800000L, m.base());
        assertEquals(Path.of("/x/libtorch_cpu.so"), m.file());
        assertTrue(PageWarmer.findMapping(maps.subList(0, 1)).isEmpty());
    }

    @Test
    void findsThePageOfSleefExpsMaskedInfinityInLibtorch271() throws Exception {
        assumeTrue("Linux".equals(System.getProperty("os.name")) && "amd64".equals(System.getProperty("os.arch")));
        try (NDManager m = NDManager.newBaseManager("PyTorch")) { // loads libtorch
            m.zeros(new ai.djl.ndarray.types.Shape(1)).exp();
        }
        PageWarmer.Mapping lib = PageWarmer.findMapping(Files.readAllLines(Path.of("/proc/self/maps"))).orElseThrow();
        List<Long> pages = PageWarmer.maskedLoadPages(lib.file());
        // Sleef_finz_expf16_u10avx512f (at 0x11c54010 in the pinned libtorch 2.7.1 build) ends with
        // vbroadcastss 0x6cc010(%rip), %zmm0{%k1} at 0x11c54136: +inf from 0x12320150
        assertTrue(pages.contains(0x12320000L), "pages " + pages.stream().map(Long::toHexString).toList());
        assertTrue(pages.size() >= 5 && pages.size() <= 32, "a handful of constant pages, got " + pages.size());
        for (long p : pages) assertEquals(0, p % 4096);
    }
}
