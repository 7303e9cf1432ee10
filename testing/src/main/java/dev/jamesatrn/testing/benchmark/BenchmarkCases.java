package dev.jamesatrn.testing.benchmark;

import static dev.jamesatrn.testing.benchmark.ProcProbes.cpuTicks;
import static dev.jamesatrn.testing.benchmark.ProcProbes.jcmd;
import static dev.jamesatrn.testing.benchmark.ProcProbes.settle;
import static dev.jamesatrn.testing.benchmark.ProcProbes.sync;
import static dev.jamesatrn.testing.benchmark.Report.median;
import static dev.jamesatrn.testing.benchmark.Report.millis;
import static dev.jamesatrn.testing.benchmark.Report.mb;
import static dev.jamesatrn.testing.benchmark.Report.ms;
import static dev.jamesatrn.testing.benchmark.Report.percentile;
import static dev.jamesatrn.testing.benchmark.Report.rate;
import static dev.jamesatrn.testing.benchmark.Report.ratio;
import static dev.jamesatrn.testing.benchmark.Report.seconds;
import static dev.jamesatrn.testing.benchmark.Traffic.DOMAIN;
import static dev.jamesatrn.testing.benchmark.Traffic.HOST;
import static dev.jamesatrn.testing.benchmark.Traffic.drain;
import static dev.jamesatrn.testing.benchmark.Traffic.inject;
import static dev.jamesatrn.testing.benchmark.Traffic.injectAndAwait;
import static dev.jamesatrn.testing.benchmark.Traffic.injectAndAwaitSpread;
import static dev.jamesatrn.testing.benchmark.Traffic.latencies;
import static dev.jamesatrn.testing.benchmark.Traffic.parkedQuietly;
import static dev.jamesatrn.testing.benchmark.Traffic.realisticMessage;
import static dev.jamesatrn.testing.benchmark.Traffic.waitFor;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.jamesatrn.testing.benchmark.Traffic.Connection;
import dev.jamesatrn.testing.benchmark.Traffic.Drain;
import dev.jamesatrn.testing.james.JamesProcess;
import dev.jamesatrn.testing.smtp.SmtpSink;

/** The measured cases, numbered as the rows of BENCHMARKS.md; each adds its rows and notes to the report. */
final class BenchmarkCases {
    private final Settings settings;
    private final Report report;

    BenchmarkCases(Settings settings, Report report) {
        this.settings = settings;
        this.report = report;
    }

    /**
     * Rows 1 to 3: inbound, drain and RemoteDelivery, each measured {@code rounds} times in turn;
     * the rows give the median round, so one slow moment of the shared machine does not decide
     * a ratio, and the notes give every round.
     */
    void sideBySide(JamesProcess james, JamesProcess.Ports ports, SmtpSink sink, byte[] message) throws Exception {
        int messages = settings.messages;
        int rounds = settings.rounds;
        List<Double> inboundRates = new ArrayList<>();
        List<Drain> drains = new ArrayList<>();
        List<Double> remoteRates = new ArrayList<>();
        Optional<Path> recording = Optional.ofNullable(System.getProperty("bench.jfr")).map(Path::of);
        for (int round = 0; round < rounds; round++) {
            inboundRates.add(messages / seconds(injectAndAwait(ports, DOMAIN, messages, message)));
            boolean profiled = round == 0 && recording.isPresent();
            if (profiled) {
                jcmd(james.pid(), "JFR.start", "name=drain", "settings=profile");
            }
            settle(james.pid());
            drains.add(drain(ports, DOMAIN, messages));
            if (profiled) {
                jcmd(james.pid(), "JFR.dump", "name=drain", "filename=" + recording.get().toAbsolutePath());
                jcmd(james.pid(), "JFR.stop", "name=drain");
                report.note("Profiled: the first measured drain was recorded by Flight Recorder into " + recording.get());
            }
            if (!settings.skips("remote")) {
                remoteRates.add(remoteDelivery(james, ports, sink, message, messages));
            }
        }
        double inboundRate = median(inboundRates);
        List<Double> drainRates = drains.stream().map(Drain::perSecond).toList();
        int middle = drainRates.indexOf(median(drainRates));
        Drain drain = drains.get(middle);
        String of = settings.ofRounds();
        report.row("James inbound SMTP into the ATRN store" + of, rate(inboundRate), mb((long) (inboundRate * settings.size), Duration.ofSeconds(1)),
            "1 connection, " + messages + " messages");
        report.row("ATRN drain, one session" + of, rate(drain.perSecond()), String.format(Locale.ROOT, "%.1f MB/s", drain.megabytesPerSecond()),
            "250 after " + millis(drain.toReply()) + ", first message after " + millis(drain.toFirst()));
        report.row("ratio drain / inbound", ratio(drain.perSecond() / inboundRate), "", "");
        report.row("where a drained message's time goes", "", "", drain.breakdown());
        if (!remoteRates.isEmpty()) {
            double remote = median(remoteRates);
            report.row("RemoteDelivery (gateway) from the same store to the same sink" + of, rate(remote), "", "10 delivery threads, as James's sample");
            report.row("ratio drain / RemoteDelivery", ratio(drain.perSecond() / remote), "", "target >= 1.5");
            report.note("Rounds (drain / RemoteDelivery, msg/s): " + IntStream.range(0, rounds)
                .mapToObj(i -> rate(drainRates.get(i)) + " / " + rate(remoteRates.get(i)) + " = " + ratio(drainRates.get(i) / remoteRates.get(i)))
                .collect(Collectors.joining("; ")) + ".");
        } else if (rounds > 1) {
            report.note("Rounds (drain, msg/s): " + drainRates.stream().map(Report::rate).collect(Collectors.joining(", ")) + ".");
        }
    }

    /**
     * The cost of a TLS record per line (the sample's implicit-TLS ODMR server, for fetchmail)
     * against STARTTLS on the ODMR port (records filled as Netty's SslHandler sees fit), rounds
     * taken in turn, median of each.
     */
    void tlsRecords(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        int messages = settings.messages;
        List<Double> startTls = new ArrayList<>();
        List<Double> perLine = new ArrayList<>();
        for (int round = 0; round < settings.rounds; round++) {
            injectAndAwait(ports, DOMAIN, messages, message);
            settle(james.pid());
            startTls.add(drain(ports, DOMAIN, messages, Connection.STARTTLS).perSecond());
            injectAndAwait(ports, DOMAIN, messages, message);
            settle(james.pid());
            perLine.add(drain(ports, DOMAIN, messages, Connection.IMPLICIT_TLS).perSecond());
        }
        String of = settings.ofRounds();
        report.row("ATRN drain over STARTTLS (ODMR port)" + of, rate(median(startTls)), "", "TLS records as Netty fills them");
        report.row("ATRN drain over implicit TLS, a TLS record per line" + of, rate(median(perLine)), "",
            "the ODMR-over-TLS port fetchmail's ssl option needs");
        report.row("ratio record per line / STARTTLS", ratio(median(perLine) / median(startTls)), "", "the cost of fetchmail compatibility");
        report.note("Rounds (STARTTLS / record per line, msg/s): " + IntStream.range(0, settings.rounds)
            .mapToObj(i -> rate(startTls.get(i)) + " / " + rate(perLine.get(i)))
            .collect(Collectors.joining("; ")) + ".");
    }

    // ---- 2: the same messages through RemoteDelivery ----

    double remoteDelivery(JamesProcess james, JamesProcess.Ports ports, SmtpSink sink, byte[] message, int messages)
            throws Exception {
        injectAndAwait(ports, DOMAIN, messages, message);
        settle(james.pid());
        int before = sink.received().size();
        String path = URLEncoder.encode("var/mail/atrn/" + DOMAIN, StandardCharsets.UTF_8);
        long start = System.nanoTime();
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://" + HOST + ":" + ports.webAdmin() + "/mailRepositories/" + path + "/mails?action=reprocess&processor=relay"))
            .method("PATCH", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException("reprocess refused: " + response.statusCode() + " " + response.body());
        }
        waitFor(Duration.ofMinutes(30), () -> sink.received().size() - before >= messages);
        return messages / seconds(Duration.ofNanos(System.nanoTime() - start));
    }

    // ---- 7: inbound latency while 20 sessions drain ----

    /**
     * Inbound latency idle, then while 20 sessions drain; {@code rounds} times, the samples of
     * all rounds pooled (a p99 of 200 samples is their second-worst, which one pause decides).
     */
    void isolation(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        int sessions = settings.sessions;
        int perDomain = Math.max(1, settings.messages / sessions);
        List<Double> idle = new ArrayList<>();
        List<Double> busy = new ArrayList<>();
        boolean overlapped = true;
        double drained = 0;
        List<String> parallelRates = new ArrayList<>();
        for (int round = 0; round < settings.rounds; round++) {
            inject(ports.inbound(), "bench-#.example", perDomain * sessions, message, sessions);
            waitFor(Duration.ofMinutes(30), () -> IntStream.range(0, sessions)
                .allMatch(i -> parkedQuietly(ports.webAdmin(), "bench-" + i + ".example") >= perDomain));
            settle(james.pid());
            idle.addAll(latencies(ports, message, settings.probes));
            long drainStart = System.nanoTime();
            List<CompletableFuture<Drain>> drains = IntStream.range(0, sessions)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> {
                    try {
                        return drain(ports, "bench-" + i + ".example", perDomain);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }))
                .collect(Collectors.toList());
            busy.addAll(latencies(ports, message, settings.probes));
            overlapped &= drains.stream().anyMatch(drain -> !drain.isDone());
            int roundDrained = drains.stream().map(CompletableFuture::join).mapToInt(Drain::count).sum();
            drained += roundDrained;
            parallelRates.add(rate(roundDrained / ((System.nanoTime() - drainStart) / 1e9)));
        }
        report.note("Isolation: " + sessions + " drains at once, all their messages over the time until the last ended, per round: "
            + String.join(", ", parallelRates) + ".");
        String samples = idle.size() + " one-message SMTP sessions each" + (settings.rounds > 1 ? " (" + settings.rounds + " rounds pooled)" : "");
        report.row("inbound latency p50, idle / during " + sessions + " drains", ms(percentile(idle, 50)) + " / " + ms(percentile(busy, 50)),
            "", samples);
        report.row("inbound latency p99, idle / during " + sessions + " drains", ms(percentile(idle, 99)) + " / " + ms(percentile(busy, 99)),
            "ratio " + ratio(percentile(busy, 99) / percentile(idle, 99)), "target ratio < 2");
        if (!overlapped) {
            report.note("Isolation: in some round the " + sessions + " drains (" + (int) drained + " messages in all) ended before the"
                + " latency probes did; raise bench.messages for a longer overlap.");
        }
    }

    // ---- 5: independence from other domains' backlog ----

    /**
     * Measured as A-B-A: empty, with the backlog parked, then empty again once the backlog is
     * removed. The two empty cases bracket the loaded one, so a drift of the machine or the JVM
     * during the phase (seen: +/-10% between consecutive measurements) shows as a difference
     * between them rather than passing for an effect of the backlog.
     */
    void independence(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        Duration replyBefore = medianAtrnReply(james, ports, message);
        Measured drainBefore = settledDrain(james, ports, message);
        byte[] small = realisticMessage(2048);
        Duration parking = injectAndAwaitSpread(ports, settings.backlog, small);
        Duration loadedReply = medianAtrnReply(james, ports, message);
        Measured loaded = settledDrain(james, ports, message);
        removeBacklog(ports);
        Duration replyAfter = medianAtrnReply(james, ports, message);
        Measured drainAfter = settledDrain(james, ports, message);
        double emptyReplyNanos = (replyBefore.toNanos() + replyAfter.toNanos()) / 2.0;
        double emptyRate = (drainBefore.drain().perSecond() + drainAfter.drain().perSecond()) / 2;
        double emptyCpu = (drainBefore.cpuMillisPerMessage() + drainAfter.cpuMillisPerMessage()) / 2;
        report.row("ATRN 250 latency (median of " + settings.replySamples + "), empty / " + settings.backlog
                + " other messages parked / empty again",
            millis(replyBefore) + " / " + millis(loadedReply) + " / " + millis(replyAfter),
            "ratio " + ratio(loadedReply.toNanos() / emptyReplyNanos),
            "to the mean of both empty cases; backlog parked in " + Math.round(seconds(parking)) + " s");
        report.row("ATRN drain rate (median of " + settings.rounds + " each), empty / with backlog / empty again",
            rate(drainBefore.drain().perSecond()) + " / " + rate(loaded.drain().perSecond()) + " / " + rate(drainAfter.drain().perSecond()),
            "ratio " + ratio(loaded.drain().perSecond() / emptyRate), "to the mean of both empty cases; target within 10%");
        report.row("James CPU per drained message (median of " + settings.rounds + " each), empty / with backlog / empty again",
            String.format(Locale.ROOT, "%.2f ms / %.2f ms / %.2f ms", drainBefore.cpuMillisPerMessage(), loaded.cpuMillisPerMessage(),
                drainAfter.cpuMillisPerMessage()),
            "ratio " + ratio(loaded.cpuMillisPerMessage() / emptyCpu), "to the mean of both empty cases; from /proc/PID/stat");
    }

    /** A drain's rate and the CPU time James spent on it per message (utime + stime of its process). */
    record Measured(Drain drain, double cpuMillisPerMessage) {
    }

    /**
     * The median of {@code rounds} drains, each of freshly parked messages, synced, on an idle
     * James; also the median CPU time James spent per message, which the disk and the machine's
     * other tenants disturb far less than the wall-clock rate.
     */
    private Measured settledDrain(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        int messages = settings.messages;
        List<Drain> drains = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        Path stat = ProcProbes.stat(james.pid());
        for (int round = 0; round < settings.rounds; round++) {
            injectAndAwait(ports, DOMAIN, messages, message);
            settle(james.pid());
            long ticks = cpuTicks(stat);
            drains.add(drain(ports, DOMAIN, messages));
            // clock ticks are 10 ms (USER_HZ 100)
            cpu.add((cpuTicks(stat) - ticks) * 10.0 / messages);
        }
        report.note("Backlog phase drains (msg/s; James CPU ms per message): " + IntStream.range(0, settings.rounds)
            .mapToObj(i -> rate(drains.get(i).perSecond()) + "; " + String.format(Locale.ROOT, "%.2f", cpu.get(i)))
            .collect(Collectors.joining(", ")) + ".");
        List<Drain> sorted = new ArrayList<>(drains);
        sorted.sort((a, b) -> Double.compare(a.perSecond(), b.perSecond()));
        return new Measured(sorted.get(sorted.size() / 2), median(cpu));
    }

    /** Through our WebAdmin route, as an operator would; synchronous, so counted down to zero. */
    private static void removeBacklog(JamesProcess.Ports ports) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + ports.webAdmin()
                + "/atrn/domains/backlog-" + i + ".example/mails")).DELETE().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("removing the backlog refused: " + response.statusCode() + " " + response.body());
            }
        }
        waitFor(Duration.ofMinutes(10), () -> IntStream.range(0, 10).mapToLong(i -> parkedQuietly(ports.webAdmin(), "backlog-" + i + ".example")).sum() == 0);
    }

    /** One ATRN's reply time is a single sample of a few ms: the median of several is the number to compare. */
    private Duration medianAtrnReply(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        settle(james.pid());
        List<Long> nanos = new ArrayList<>();
        for (int i = 0; i < settings.replySamples; i++) {
            String domain = "bench-" + (i % settings.sessions) + ".example";
            injectAndAwait(ports, domain, 1, message);
            nanos.add(drain(ports, domain, 1).toReply().toNanos());
        }
        Collections.sort(nanos);
        report.note("ATRN 250 latency samples, sorted (ms): " + nanos.stream().map(n -> String.format(Locale.ROOT, "%.2f", n / 1e6))
            .collect(Collectors.joining(" ")) + ".");
        return Duration.ofNanos(nanos.get(nanos.size() / 2));
    }

    // ---- 6: big messages with a small heap ----

    void memory(Path work) throws Exception {
        JamesProcess.Ports ports = BenchmarkJames.freePorts();
        byte[] big = realisticMessage(settings.bigSize);
        try (JamesProcess james = BenchmarkJames.start(settings, work, ports, work.resolveSibling("james-256m.log"), "256m", 9)) {
            injectAndAwait(ports, DOMAIN, settings.bigMessages, big);
            ProcProbes.HeapWatch watch = new ProcProbes.HeapWatch(james.pid());
            watch.start();
            Drain drain = drain(ports, DOMAIN, settings.bigMessages);
            watch.stop();
            report.row(settings.bigMessages + " messages of " + (settings.bigSize / 1024 / 1024) + " MB drained at -Xmx256m",
                rate(drain.perSecond()), String.format(Locale.ROOT, "%.1f MB/s", drain.megabytesPerSecond()),
                "completed; peak heap used " + watch.peakMegabytes() + " MB (jstat, every 200 ms)");
        }
    }

    // ---- 4: Postfix flushing a held queue to the same sink ----

    void postfix(SmtpSink sink, byte[] message) {
        int messages = settings.messages;
        try {
            PostfixQueue postfix = PostfixQueue.prepare(sink.port());
            long holdStart = System.nanoTime();
            for (int sent = 0; sent < messages; sent += 500) {
                inject(25, DOMAIN, Math.min(500, messages - sent), message, 1);
            }
            postfix.awaitHeld(messages);
            Duration parking = Duration.ofNanos(System.nanoTime() - holdStart);
            int before = sink.received().size();
            sync();
            long start = System.nanoTime();
            postfix.flush();
            waitFor(Duration.ofMinutes(30), () -> sink.received().size() - before >= messages);
            double rate = messages / seconds(Duration.ofNanos(System.nanoTime() - start));
            report.row("Postfix " + postfix.version() + ": held queue flushed to the same sink", rate(rate), "",
                "default concurrency; " + messages + " held in " + Math.round(seconds(parking)) + " s");
            report.postfixRate(rate);
            postfix.stop();
        } catch (Exception e) {
            report.note("Postfix skipped: " + e.getMessage());
        }
    }
}
