package dev.jamesatrn.testing.benchmark;

import static dev.jamesatrn.testing.benchmark.Traffic.DOMAIN;
import static dev.jamesatrn.testing.benchmark.Traffic.drain;
import static dev.jamesatrn.testing.benchmark.Traffic.injectAndAwait;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;

import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesProcess;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * The benchmark behind BENCHMARKS.md (README: "Benchmark"). Not a test: it measures, prints a
 * table and rewrites BENCHMARKS.md. James runs as its own process laid out from config-samples
 * (plus benchmark-only domains and a RemoteDelivery gateway processor), every peer on loopback.
 * Every number is taken in the same run, so the ratios compare like with like.
 *
 * <p>Settings (system properties): bench.messages [2000], bench.size [10240], bench.backlog
 * [100000], bench.bigMessages [200], bench.bigSize [5242880], bench.sessions [20],
 * bench.probes [200], bench.warmup [2000], bench.rounds [3], bench.replySamples [41], bench.store
 * [the sample's repositoryUrlPrefix], bench.jfr [no recording], bench.skip (comma list of:
 * remote,postfix,backlog,memory,isolation,tls,customer; fetchmail leaves out the customer case's fetchmail rows only).
 *
 * <p>This class runs the cases in order; {@link BenchmarkCases} measures them ({@link CustomerCases}
 * those of James as the ODMR customer, a second James process), {@link Traffic}
 * is the sending MTA and the ODMR customer, {@link ProcProbes} reads James's process, and
 * {@link Report} prints the table and writes BENCHMARKS.md.
 */
public final class DrainBenchmark {
    private final Settings settings;
    private final Report report = new Report();
    private final BenchmarkCases cases;
    private final Path root;

    private DrainBenchmark(Path root) {
        this.root = root;
        this.settings = new Settings(root);
        this.cases = new BenchmarkCases(settings, report);
    }

    public static void main(String[] args) throws Exception {
        Path root = JamesLayout.repositoryRoot();
        new DrainBenchmark(root).run(root.resolve(args.length > 0 ? args[0] : "target/bench"));
    }

    private void run(Path work) throws Exception {
        deleteRecursively(work);
        Files.createDirectories(work);
        byte[] message = Traffic.realisticMessage(settings.size);
        try (SmtpSink sink = new SmtpSink(0, received -> { }).discardingData()) {
            JamesProcess.Ports ports = BenchmarkJames.freePorts();
            try (JamesProcess james = BenchmarkJames.start(settings, work.resolve("james"), ports, work.resolve("james.log"), "1g",
                sink.port())) {
                int warmup = settings.warmup;
                if (warmup > 0) {
                    // The first ATRN used to be measured on a cold JVM, which made the later
                    // "with backlog" drain look faster than the "empty" one.
                    injectAndAwait(ports, DOMAIN, warmup, message);
                    drain(ports, DOMAIN, warmup);
                    if (!settings.skips("remote")) {
                        // RemoteDelivery gets the same warm-up, or the comparison favours whichever ran later
                        cases.remoteDelivery(james, ports, sink, message, warmup);
                    }
                    report.note("Warm-up: " + warmup + " messages were parked and drained, and " + warmup
                        + " more delivered by RemoteDelivery, before anything was measured (JIT compilation).");
                }
                cases.sideBySide(james, ports, sink, message);
                if (!settings.skips("tls")) {
                    cases.tlsRecords(james, ports, message);
                }
                if (!settings.skips("customer")) {
                    new CustomerCases(settings, report).receiveRates(james, ports, work.resolve("customer"), message);
                }
                if (!settings.skips("isolation")) {
                    cases.isolation(james, ports, message);
                }
                if (!settings.skips("backlog")) {
                    cases.independence(james, ports, message);
                }
            }
            if (!settings.skips("postfix")) {
                cases.postfix(sink, message);
            }
        }
        if (!settings.skips("memory")) {
            cases.memory(work.resolve("memory"));
        }
        report.write(root, settings);
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (var walk = Files.walk(path)) {
            for (Path p : walk.sorted(Collections.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
