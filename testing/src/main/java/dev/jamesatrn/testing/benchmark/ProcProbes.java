package dev.jamesatrn.testing.benchmark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** What the benchmark reads of James's process from outside: /proc, jstat, jcmd, and the disk's sync. */
final class ProcProbes {
    private ProcProbes() {
    }

    /**
     * Before every measured drain, RemoteDelivery run and set of 250 latency samples: whatever was
     * just written reaches the disk ({@code sync}) and James's process goes quiet (under 5% of a
     * core over one second, read from /proc), so that no case runs while the kernel writes back
     * or James finishes parking, and every case removes messages that are on disk, as parked mail
     * is in real life (deleting files never written back is cheaper: measured drains were about
     * 20% faster without this).
     */
    static void settle(long pid) throws IOException, InterruptedException {
        sync();
        Path stat = stat(pid);
        if (!Files.exists(stat)) {
            return;
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long previous = cpuTicks(stat);
        int quiet = 0;
        while (quiet < 4 && System.nanoTime() < deadline) {
            // a sampling period of the process's CPU time, not a wait for an event
            Thread.sleep(250);
            long now = cpuTicks(stat);
            quiet = now - previous <= 1 ? quiet + 1 : 0;
            previous = now;
        }
    }

    /** Written data reaches the disk, as it has for mail parked a while (deleting it then costs disk I/O). */
    static void sync() throws IOException, InterruptedException {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }

    static Path stat(long pid) {
        return Path.of("/proc", String.valueOf(pid), "stat");
    }

    /** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
    static long cpuTicks(Path stat) throws IOException {
        String line = Files.readString(stat);
        String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /**
     * Binds every thread of a process to {@code cpus} (taskset's list syntax, e.g. "0" or "2-3");
     * threads it starts later inherit it from their creator.
     */
    static void pin(long pid, String cpus) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("taskset", "-a", "-cp", cpus, String.valueOf(pid)).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException("taskset -a -cp " + cpus + " " + pid + " failed: " + output);
        }
    }

    /** A diagnostic command to the James JVM (Flight Recorder for {@code bench.jfr}). */
    static void jcmd(long pid, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
            String.valueOf(pid)));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** Polls jstat for the James process: heap used = survivors + eden + old. */
    static final class HeapWatch {
        private final long pid;
        private final AtomicLong peakKb = new AtomicLong();
        private volatile boolean running = true;
        private Thread thread;

        HeapWatch(long pid) {
            this.pid = pid;
        }

        void start() {
            thread = new Thread(() -> {
                Path jstat = Path.of(System.getProperty("java.home"), "bin", "jstat");
                while (running) {
                    try {
                        Process p = new ProcessBuilder(jstat.toString(), "-gc", String.valueOf(pid)).start();
                        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).lines().toList();
                        p.waitFor(5, TimeUnit.SECONDS);
                        if (lines.size() >= 2) {
                            List<String> names = List.of(lines.get(0).trim().split("\\s+"));
                            String[] values = lines.get(1).trim().split("\\s+");
                            double used = 0;
                            for (String column : List.of("S0U", "S1U", "EU", "OU")) {
                                used += Double.parseDouble(values[names.indexOf(column)]);
                            }
                            peakKb.accumulateAndGet((long) used, Math::max);
                        }
                        // a sampling period, not a wait for some event
                        Thread.sleep(200);
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "heap-watch");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(10_000);
        }

        long peakMegabytes() {
            return peakKb.get() / 1024;
        }
    }
}
