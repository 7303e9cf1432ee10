package dev.jamesatrn.testing.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The benchmark's settings, from system properties (the list is in {@link DrainBenchmark}'s javadoc). */
final class Settings {
    final int messages = Integer.getInteger("bench.messages", 2000);
    final int size = Integer.getInteger("bench.size", 10240);
    final int backlog = Integer.getInteger("bench.backlog", 100_000);
    final int bigMessages = Integer.getInteger("bench.bigMessages", 200);
    final int bigSize = Integer.getInteger("bench.bigSize", 5 * 1024 * 1024);
    final int sessions = Integer.getInteger("bench.sessions", 20);
    final int probes = Integer.getInteger("bench.probes", 200);
    final int warmup = Integer.getInteger("bench.warmup", 2000);
    final int rounds = Integer.getInteger("bench.rounds", 3);
    final int replySamples = Integer.getInteger("bench.replySamples", 41);
    private final List<String> skip = List.of(System.getProperty("bench.skip", "").split(","));
    private final Path root;

    Settings(Path root) {
        this.root = root;
    }

    boolean skips(String benchmarkCase) {
        return skip.contains(benchmarkCase);
    }

    /** " (median of 3 rounds)", or nothing for a single round. */
    String ofRounds() {
        return rounds > 1 ? " (median of " + rounds + " rounds)" : "";
    }

    /** Where the benchmark's James parks mail: bench.store, else the sample atrn.xml's repositoryUrlPrefix. */
    String storePrefix() throws IOException {
        String chosen = System.getProperty("bench.store");
        if (chosen != null) {
            return chosen;
        }
        String sample = Files.readString(root.resolve("config-samples/atrn.xml"));
        Matcher prefix = Pattern.compile("<repositoryUrlPrefix>([^<]+)</repositoryUrlPrefix>").matcher(sample);
        if (!prefix.find()) {
            throw new IllegalStateException("config-samples/atrn.xml has no repositoryUrlPrefix");
        }
        return prefix.group(1);
    }
}
