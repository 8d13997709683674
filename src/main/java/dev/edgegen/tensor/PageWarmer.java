package dev.edgegen.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import jdk.incubator.foreign.MemoryAccess;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;

/**
 * Keeps the read-only pages that libtorch's vectorised math (SLEEF: exp, log, erf, ...) reads with masked loads
 * resident in the process's page tables, by reading one byte of each every few milliseconds on a daemon thread.
 *
 * <p>Why: SLEEF's AVX-512 exp ends with a masked broadcast of +inf from a constant, whose mask is empty unless an input
 * overflows. A masked load whose lanes are all off does not fault, so if that page's mapping has been dropped (on this
 * machine's paravirtualised VM it is, at random moments) every call takes the CPU's slow fault-suppression path and
 * nothing ever maps the page again. Measured: a UNet training step went from ~250 to ~450 ms with a third of it in
 * exp; one ordinary read of the page (from gdb) made steps fast again for ~30 steps
 * (docs/results/training-profile-slow-phase.md). Reading each page often keeps it mapped.
 *
 * <p>The pages are found once: the targets of masked, RIP-relative EVEX loads in the functions libtorch_cpu.so exports
 * as {@code Sleef_*} (9 pages in libtorch 2.7.1). The thread waits until libtorch is loaded. Off with
 * {@code -Dedgegen.pageWarmer=off}; Linux x86-64 only; needs the foreign-linker flags the launcher passes.
 */
public final class PageWarmer {
    private static final String LIBRARY = "libtorch_cpu.so";
    private static final long PAGE = 4096;
    private static final long INTERVAL_MS = Long.getLong("edgegen.pageWarmer.ms", 5);
    private static Thread thread;
    @SuppressWarnings("unused") private static volatile int sink;

    private PageWarmer() {}

    /** Starts the daemon thread (once); false when it cannot run here. */
    public static synchronized boolean start() {
        if (thread != null) return true;
        if ("off".equals(System.getProperty("edgegen.pageWarmer"))) return false;
        if (!"amd64".equals(System.getProperty("os.arch")) || !"Linux".equals(System.getProperty("os.name"))) return false;
        thread = new Thread(PageWarmer::run, "edgegen-page-warmer");
        thread.setDaemon(true);
        thread.start();
        return true;
    }

    private static void run() {
        try {
            Optional<Mapping> lib = Optional.empty();
            while (lib.isEmpty()) { // libtorch loads with the first NDManager, maybe never (e.g. --help)
                Thread.sleep(200);
                lib = findMapping(Files.readAllLines(Path.of("/proc/self/maps")));
            }
            List<Long> pages = maskedLoadPages(lib.get().file);
            List<MemorySegment> segments = new ArrayList<>();
            for (long page : pages) {
                segments.add(Memory.segment(lib.get().base + page));
            }
            while (true) {
                int s = 0;
                for (MemorySegment seg : segments) s += Memory.read(seg);
                sink = s;
                Thread.sleep(INTERVAL_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("edgegen: page warmer stopped (" + e + "); exp may run slower on some VMs (the java command "
                    + "needs --add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED, as ./edgegen passes)");
        }
    }

    record Mapping(long base, Path file) {}

    /** The load address of {@value #LIBRARY}: its mapping of file offset 0 in /proc/self/maps lines. */
    static Optional<Mapping> findMapping(List<String> maps) {
        for (String line : maps) {
            // 7f7de9800000-7f7dfe1bc000 r-xp 00000000 fe:00 16039951   /path/libtorch_cpu.so
            String[] f = line.trim().split("\\s+", 6);
            if (f.length == 6 && f[5].endsWith("/" + LIBRARY) && Long.parseLong(f[2], 16) == 0) {
                return Optional.of(new Mapping(Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16), Path.of(f[5])));
            }
        }
        return Optional.empty();
    }

    /**
     * Pages (as offsets from the load address, assuming the first PT_LOAD segment starts at address 0 as in a shared
     * library) that masked, RIP-relative EVEX instructions in the exported {@code Sleef_*} functions read.
     */
    static List<Long> maskedLoadPages(Path elf) throws IOException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            MappedByteBuffer d = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            d.order(ByteOrder.LITTLE_ENDIAN);
            if (d.getInt(0) != 0x464c457f || d.get(4) != 2) throw new IOException(elf + " is not a 64-bit ELF file");
            List<long[]> loads = new ArrayList<>(); // {vaddr, offset, filesz, memsz}
            long phoff = d.getLong(0x20);
            int phentsize = Short.toUnsignedInt(d.getShort(0x36));
            int phnum = Short.toUnsignedInt(d.getShort(0x38));
            for (int i = 0; i < phnum; i++) {
                int p = (int) (phoff + (long) i * phentsize);
                if (d.getInt(p) == 1) loads.add(new long[] {d.getLong(p + 16), d.getLong(p + 8), d.getLong(p + 32), d.getLong(p + 40)});
            }
            long shoff = d.getLong(0x28);
            int shentsize = Short.toUnsignedInt(d.getShort(0x3A));
            int shnum = Short.toUnsignedInt(d.getShort(0x3C));
            int dynsym = -1;
            for (int i = 0; i < shnum; i++) {
                if (d.getInt((int) (shoff + (long) i * shentsize) + 4) == 11) dynsym = (int) (shoff + (long) i * shentsize); // SHT_DYNSYM
            }
            if (dynsym < 0) throw new IOException(elf + " has no .dynsym");
            int symOff = (int) d.getLong(dynsym + 24);
            int symCount = (int) (d.getLong(dynsym + 32) / 24);
            int strOff = (int) d.getLong((int) (shoff + (long) d.getInt(dynsym + 40) * shentsize) + 24);
            byte[] prefix = "Sleef_".getBytes(StandardCharsets.US_ASCII);
            TreeSet<Long> pages = new TreeSet<>();
            for (int k = 0; k < symCount; k++) {
                int s = symOff + k * 24;
                long value = d.getLong(s + 8);
                long size = d.getLong(s + 16);
                if ((d.get(s + 4) & 0xf) != 2 || size == 0 || !startsWith(d, strOff + d.getInt(s), prefix)) continue; // STT_FUNC
                long off = fileOffset(loads, value);
                if (off < 0) continue;
                for (long i = off; i + 10 <= off + size; i++) {
                    int at = (int) i;
                    // EVEX: 62, P0 with map 0F/0F38/0F3A, P2 with a mask register (aaa != 0); ModRM mod=00 rm=101: [rip + disp32]
                    if (d.get(at) != 0x62 || (d.get(at + 1) & 0x03) == 0 || (d.get(at + 3) & 0x07) == 0
                            || (d.get(at + 5) & 0xC7) != 0x05) continue;
                    long next = value + (i - off) + 10; // without an immediate; with one the target moves by a byte
                    long target = next + d.getInt(at + 6);
                    for (long t : new long[] {target, target + 1}) {
                        if (inImage(loads, t)) pages.add(t & -PAGE);
                    }
                }
            }
            return new ArrayList<>(pages);
        }
    }

    private static boolean startsWith(ByteBuffer d, int at, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) if (d.get(at + i) != prefix[i]) return false;
        return true;
    }

    private static long fileOffset(List<long[]> loads, long vaddr) {
        for (long[] l : loads) if (vaddr >= l[0] && vaddr < l[0] + l[2]) return vaddr - l[0] + l[1];
        return -1;
    }

    private static boolean inImage(List<long[]> loads, long vaddr) {
        for (long[] l : loads) if (vaddr >= l[0] && vaddr < l[0] + l[3]) return true;
        return false;
    }

    /** Loaded only when used, so a JVM without jdk.incubator.foreign fails here, inside the warmer thread. */
    private static final class Memory {
        static MemorySegment segment(long address) {
            return MemoryAddress.ofLong(address).asSegment(1, ResourceScope.globalScope());
        }

        static byte read(MemorySegment seg) {
            return MemoryAccess.getByte(seg);
        }
    }
}
