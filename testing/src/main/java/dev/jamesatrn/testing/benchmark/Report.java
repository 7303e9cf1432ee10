package dev.jamesatrn.testing.benchmark;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The benchmark's table, printed row by row as it is measured, and BENCHMARKS.md rewritten at
 * the end: machine, results and the notes of this run; the hand-written analysis is kept.
 */
final class Report {
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private Optional<Double> postfixRate = Optional.empty();

    void row(String what, String rate, String extra, String note) {
        rows.add(new String[] {what, rate, extra, note});
        System.out.printf(Locale.ROOT, "%-70s %-22s %-18s %s%n", what, rate, extra, note);
    }

    void note(String note) {
        notes.add(note);
    }

    /** For the closing "ratio drain / Postfix" row. */
    void postfixRate(double rate) {
        postfixRate = Optional.of(rate);
    }

    void write(Path root, Settings settings) throws IOException {
        double drainRate = rows.stream().filter(r -> r[0].startsWith("ATRN drain, one session")).findFirst()
            .map(r -> Double.parseDouble(r[1].split(" ")[0])).orElse(0.0);
        postfixRate.ifPresent(rate -> row("ratio drain / Postfix", ratio(drainRate / rate), "", "target >= 1"));
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n")
            .append("Produced by `./run-benchmark.sh` (see README). Every row comes from the same run; compare the ratios, ")
            .append("as absolute numbers drift on shared machines.\n\n")
            .append("## Machine\n\n")
            .append("- date: ").append(Instant.now()).append('\n')
            .append("- ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
            .append(ManagementFactory.getOperatingSystemMXBean().getName()).append(' ')
            .append(System.getProperty("os.version")).append(", ").append(System.getProperty("java.vm.name")).append(' ')
            .append(System.getProperty("java.version")).append('\n')
            .append("- messages: ").append(settings.messages).append(" of ").append(settings.size)
            .append(" bytes (multipart MIME); James 3.8.1 memory app, ")
            .append("parked-mail store `").append(settings.storePrefix()).append("`, James JVM -Xmx1g; every peer on loopback\n\n")
            .append("## Results\n\n| measurement | rate | | notes |\n|---|---|---|---|\n");
        for (String[] r : rows) {
            md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        if (!notes.isEmpty()) {
            md.append("\n## Notes from this run\n\n");
            notes.forEach(note -> md.append("- ").append(note).append('\n'));
        }
        Path target = root.resolve("BENCHMARKS.md");
        String previous = Files.exists(target) ? Files.readString(target) : "";
        int analysis = previous.indexOf("\n## Analysis");
        Files.writeString(target, md + (analysis >= 0 ? previous.substring(analysis) : ""));
        System.out.println("\nWritten to " + target);
    }

    // ---- statistics and the table's formats ----

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    static double percentile(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%.0f msg/s", perSecond);
    }

    static String mb(long bytes, Duration d) {
        return String.format(Locale.ROOT, "%.1f MB/s", bytes / 1e6 / seconds(d));
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2fx", r);
    }

    static String ms(double millis) {
        return String.format(Locale.ROOT, "%.1f ms", millis);
    }

    static String millis(Duration d) {
        return String.format(Locale.ROOT, "%.1f ms", d.toNanos() / 1e6);
    }
}
