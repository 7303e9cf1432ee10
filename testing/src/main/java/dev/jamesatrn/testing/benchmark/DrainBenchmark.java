package dev.jamesatrn.testing.benchmark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesProcess;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.OdmrClient;
import dev.jamesatrn.testing.smtp.SmtpSink;
import dev.jamesatrn.testing.smtp.Wire;

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
 * remote,postfix,backlog,memory,isolation,tls).
 */
public final class DrainBenchmark {
    private static final String HOST = "127.0.0.1";
    private static final String DOMAIN = "customer.example";
    private static final String SECRET = "bench-secret";
    private static final int REPLY_SAMPLES = Integer.getInteger("bench.replySamples", 41);

    private final int messages = Integer.getInteger("bench.messages", 2000);
    private final int size = Integer.getInteger("bench.size", 10240);
    private final int backlog = Integer.getInteger("bench.backlog", 100_000);
    private final int bigMessages = Integer.getInteger("bench.bigMessages", 200);
    private final int bigSize = Integer.getInteger("bench.bigSize", 5 * 1024 * 1024);
    private final int sessions = Integer.getInteger("bench.sessions", 20);
    private final int probes = Integer.getInteger("bench.probes", 200);
    private final int warmup = Integer.getInteger("bench.warmup", 2000);
    private final int rounds = Integer.getInteger("bench.rounds", 3);
    private final List<String> skip = List.of(System.getProperty("bench.skip", "").split(","));
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Path root;

    private DrainBenchmark(Path root) {
        this.root = root;
    }

    public static void main(String[] args) throws Exception {
        Path root = JamesLayout.repositoryRoot();
        new DrainBenchmark(root).run(root.resolve(args.length > 0 ? args[0] : "target/bench"));
    }

    record Drain(Duration toReply, Duration toFirst, Duration total, int count, long bytes) {
        double perSecond() {
            return count / seconds(total);
        }

        double megabytesPerSecond() {
            return bytes / 1e6 / seconds(total);
        }
    }

    private void run(Path work) throws Exception {
        deleteRecursively(work);
        Files.createDirectories(work);
        byte[] message = realisticMessage(size);
        try (SmtpSink sink = new SmtpSink(0, received -> { }).discardingData()) {
            JamesProcess.Ports ports = freePorts();
            try (JamesProcess james = JamesProcess.start(work.resolve("james"), HOST, ports, work.resolve("james.log"), "1g",
                conf -> benchmarkConfiguration(conf, sink.port()))) {
                if (warmup > 0) {
                    // The first ATRN used to be measured on a cold JVM, which made the later
                    // "with backlog" drain look faster than the "empty" one.
                    injectAndAwait(ports, DOMAIN, warmup, message);
                    drain(ports, DOMAIN, warmup);
                    if (!skip.contains("remote")) {
                        // RemoteDelivery gets the same warm-up, or the comparison favours whichever ran later
                        remoteDelivery(james, ports, sink, message, warmup);
                    }
                    notes.add("Warm-up: " + warmup + " messages were parked and drained, and " + warmup
                        + " more delivered by RemoteDelivery, before anything was measured (JIT compilation).");
                }
                sideBySide(james, ports, sink, message);
                if (!skip.contains("tls")) {
                    tlsRecords(james, ports, message);
                }
                if (!skip.contains("isolation")) {
                    isolation(james, ports, message);
                }
                if (!skip.contains("backlog")) {
                    independence(james, ports, message);
                }
            }
            if (!skip.contains("postfix")) {
                postfix(sink, message);
            }
        }
        if (!skip.contains("memory")) {
            memory(work.resolve("memory"));
        }
        report();
    }

    /**
     * Rows 1 to 3: inbound, drain and RemoteDelivery, each measured {@code rounds} times in turn;
     * the rows give the median round, so one slow moment of the shared machine does not decide
     * a ratio, and the notes give every round.
     */
    private void sideBySide(JamesProcess james, JamesProcess.Ports ports, SmtpSink sink, byte[] message) throws Exception {
        List<Double> inboundRates = new ArrayList<>();
        List<Drain> drains = new ArrayList<>();
        List<String> breakdowns = new ArrayList<>();
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
            breakdowns.add(lastBreakdown);
            if (profiled) {
                jcmd(james.pid(), "JFR.dump", "name=drain", "filename=" + recording.get().toAbsolutePath());
                jcmd(james.pid(), "JFR.stop", "name=drain");
                notes.add("Profiled: the first measured drain was recorded by Flight Recorder into " + recording.get());
            }
            if (!skip.contains("remote")) {
                remoteRates.add(remoteDelivery(james, ports, sink, message, messages));
            }
        }
        double inboundRate = median(inboundRates);
        List<Double> drainRates = drains.stream().map(Drain::perSecond).toList();
        int middle = drainRates.indexOf(median(drainRates));
        Drain drain = drains.get(middle);
        String of = rounds > 1 ? " (median of " + rounds + " rounds)" : "";
        row("James inbound SMTP into the ATRN store" + of, rate(inboundRate), mb((long) (inboundRate * size), Duration.ofSeconds(1)),
            "1 connection, " + messages + " messages");
        row("ATRN drain, one session" + of, rate(drain.perSecond()), String.format(Locale.ROOT, "%.1f MB/s", drain.megabytesPerSecond()),
            "250 after " + millis(drain.toReply()) + ", first message after " + millis(drain.toFirst()));
        row("ratio drain / inbound", ratio(drain.perSecond() / inboundRate), "", "");
        row("where a drained message's time goes", "", "", breakdowns.get(middle));
        if (!remoteRates.isEmpty()) {
            double remote = median(remoteRates);
            row("RemoteDelivery (gateway) from the same store to the same sink" + of, rate(remote), "", "10 delivery threads, as James's sample");
            row("ratio drain / RemoteDelivery", ratio(drain.perSecond() / remote), "", "target >= 1.5");
            notes.add("Rounds (drain / RemoteDelivery, msg/s): " + IntStream.range(0, rounds)
                .mapToObj(i -> rate(drainRates.get(i)) + " / " + rate(remoteRates.get(i)) + " = " + ratio(drainRates.get(i) / remoteRates.get(i)))
                .collect(Collectors.joining("; ")) + ".");
        } else if (rounds > 1) {
            notes.add("Rounds (drain, msg/s): " + drainRates.stream().map(DrainBenchmark::rate).collect(Collectors.joining(", ")) + ".");
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    // ---- James configuration for the benchmark (the samples plus benchmark domains) ----

    private void benchmarkConfiguration(Path conf, int sinkPort) throws IOException {
        StringBuilder domains = new StringBuilder("<domain name=\"" + DOMAIN + "\"><login>customer</login></domain>");
        for (int i = 0; i < sessions; i++) {
            domains.append("<domain name=\"bench-").append(i).append(".example\"><login>bench</login></domain>");
        }
        for (int i = 0; i < 10; i++) {
            domains.append("<domain name=\"backlog-").append(i).append(".example\"><login>backlog</login></domain>");
        }
        // where the latency probes' messages are parked, out of the measured domains' way
        domains.append("<domain name=\"probes.example\"><login>bench</login></domain>");
        Files.writeString(conf.resolve("atrn.xml"), "<atrn><repositoryUrlPrefix>" + storePrefix() + "</repositoryUrlPrefix><logins>"
            + "<login name=\"customer\" secret=\"" + SECRET + "\"/><login name=\"bench\" secret=\"" + SECRET + "\"/>"
            + "<login name=\"backlog\" secret=\"" + SECRET + "\"/></logins><domains>" + domains + "</domains></atrn>");
        // The sample's one RemoteDelivery, pointed at the sink as a gateway: a second RemoteDelivery
        // would compete for the same delivery threads and look up real MX records.
        Path mailets = conf.resolve("mailetcontainer.xml");
        String sample = Files.readString(mailets);
        String relay = "<bounceProcessor>bounces</bounceProcessor>";
        if (!sample.contains(relay)) {
            throw new IllegalStateException("config-samples/mailetcontainer.xml changed: no RemoteDelivery bounceProcessor to extend");
        }
        Files.writeString(mailets, sample.replaceFirst(relay, relay + "<gateway>127.0.0.1</gateway><gatewayPort>" + sinkPort
            + "</gatewayPort>"));
        // All the benchmark's customers are on one address: the sample's per-address connection
        // limit on the ODMR port would refuse the parallel drains.
        Path smtp = conf.resolve("smtpserver.xml");
        String servers = Files.readString(smtp);
        String odmrLimit = "(?s)(<jmxName>odmrserver</jmxName>.*?)<connectionLimitPerIP>\\d+</connectionLimitPerIP>";
        if (!servers.matches("(?s).*" + odmrLimit + ".*")) {
            throw new IllegalStateException("config-samples/smtpserver.xml changed: no connectionLimitPerIP on the ODMR server");
        }
        Files.writeString(smtp, servers.replaceFirst(odmrLimit, "$1<connectionLimitPerIP>0</connectionLimitPerIP>"));
    }

    // ---- 1 and 3: inbound and drain ----

    /** One SMTP connection, one transaction per message, as a busy sending MTA would do. */
    private static Duration inject(int port, String rcptDomain, int count, byte[] message, int domainsSpread) throws IOException {
        long start = System.nanoTime();
        try (Socket socket = new Socket(HOST, port)) {
            socket.setSoTimeout(120_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 65536);
            byte[] stuffed = Wire.dotStuff(message);
            Wire.readReply(in);
            Wire.writeLine(out, "EHLO bench.test");
            Wire.readReply(in);
            for (int i = 0; i < count; i++) {
                String domain = domainsSpread > 1 ? rcptDomain.replace("#", String.valueOf(i % domainsSpread)) : rcptDomain;
                Wire.writeLine(out, "MAIL FROM:<sender@sender.test>");
                expect(Wire.readReply(in), "250");
                Wire.writeLine(out, "RCPT TO:<user" + (i % 50) + "@" + domain + ">");
                expect(Wire.readReply(in), "250");
                Wire.writeLine(out, "DATA");
                expect(Wire.readReply(in), "354");
                out.write(stuffed);
                out.flush();
                expect(Wire.readReply(in), "250");
            }
            Wire.writeLine(out, "QUIT");
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private Duration injectAndAwait(JamesProcess.Ports ports, String domain, int count, byte[] message) throws Exception {
        long start = System.nanoTime();
        inject(ports.inbound(), domain, count, message, 1);
        waitFor(Duration.ofMinutes(30), () -> parkedQuietly(ports.webAdmin(), domain) >= count);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** How the benchmark's customer reaches the ODMR service. */
    enum Connection {
        PLAIN, STARTTLS, IMPLICIT_TLS
    }

    /**
     * The cost of a TLS record per line (the sample's implicit-TLS ODMR server, for fetchmail)
     * against STARTTLS on the ODMR port (records filled as Netty's SslHandler sees fit), rounds
     * taken in turn, median of each.
     */
    private void tlsRecords(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        List<Double> startTls = new ArrayList<>();
        List<Double> perLine = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            injectAndAwait(ports, DOMAIN, messages, message);
            settle(james.pid());
            startTls.add(drain(ports, DOMAIN, messages, Connection.STARTTLS).perSecond());
            injectAndAwait(ports, DOMAIN, messages, message);
            settle(james.pid());
            perLine.add(drain(ports, DOMAIN, messages, Connection.IMPLICIT_TLS).perSecond());
        }
        String of = rounds > 1 ? " (median of " + rounds + " rounds)" : "";
        row("ATRN drain over STARTTLS (ODMR port)" + of, rate(median(startTls)), "", "TLS records as Netty fills them");
        row("ATRN drain over implicit TLS, a TLS record per line" + of, rate(median(perLine)), "",
            "the ODMR-over-TLS port fetchmail's ssl option needs");
        row("ratio record per line / STARTTLS", ratio(median(perLine) / median(startTls)), "", "the cost of fetchmail compatibility");
        notes.add("Rounds (STARTTLS / record per line, msg/s): " + IntStream.range(0, rounds)
            .mapToObj(i -> rate(startTls.get(i)) + " / " + rate(perLine.get(i)))
            .collect(Collectors.joining("; ")) + ".");
    }

    private Drain drain(JamesProcess.Ports ports, String domain, int expected) throws Exception {
        return drain(ports, domain, expected, Connection.PLAIN);
    }

    private static OdmrClient connect(JamesProcess.Ports ports, Connection connection) throws Exception {
        if (connection == Connection.IMPLICIT_TLS) {
            OdmrClient client = OdmrClient.implicitTls(ports.odmrTls());
            client.command("EHLO customer.example");
            return client;
        }
        OdmrClient client = new OdmrClient(ports.odmr());
        client.command("EHLO customer.example");
        if (connection == Connection.STARTTLS) {
            expect(client.startTls(), "220");
            client.command("EHLO customer.example");
        }
        return client;
    }

    private Drain drain(JamesProcess.Ports ports, String domain, int expected, Connection connection) throws Exception {
        AtomicLong firstAt = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        // where the time goes, seen from the customer: from our 250 to end-of-data until James's
        // next MAIL (James: settle, read the next message, send the next group), and from MAIL to
        // end-of-data (the transaction on the wire, both sides)
        AtomicLong lastEnd = new AtomicLong();
        AtomicLong lastMail = new AtomicLong();
        AtomicLong betweenNanos = new AtomicLong();
        AtomicLong transactionNanos = new AtomicLong();
        CustomerServer customer = new CustomerServer((step, index, reply) -> {
            long now = System.nanoTime();
            if (step.equals("MAIL")) {
                if (lastEnd.get() != 0) {
                    betweenNanos.addAndGet(now - lastEnd.get());
                }
                lastMail.set(now);
            }
            if (step.equals("END")) {
                firstAt.compareAndSet(0, now);
                transactionNanos.addAndGet(now - lastMail.get());
                lastEnd.set(now);
            }
            return Optional.of(reply);
        }, received -> bytes.addAndGet(received.length())).discardingData();
        try (OdmrClient client = connect(ports, connection)) {
            expect(client.authCramMd5(loginOf(domain), SECRET), "235");
            long start = System.nanoTime();
            List<String> reply = client.command("ATRN " + domain);
            long replied = System.nanoTime();
            expect(reply, "250");
            client.serve(customer);
            long end = System.nanoTime();
            if (customer.received.size() != expected) {
                throw new IllegalStateException("drained " + customer.received.size() + " of " + expected);
            }
            lastBreakdown = String.format(Locale.ROOT, "per message: %.2f ms MAIL to end-of-data, %.2f ms from our 250 to the next MAIL",
                transactionNanos.get() / 1e6 / expected, betweenNanos.get() / 1e6 / Math.max(1, expected - 1));
            return new Drain(Duration.ofNanos(replied - start), Duration.ofNanos(firstAt.get() - start),
                Duration.ofNanos(end - start), customer.received.size(), bytes.get());
        }
    }

    private String lastBreakdown = "";

    private static String loginOf(String domain) {
        return domain.startsWith("bench-") ? "bench" : domain.startsWith("backlog-") ? "backlog" : "customer";
    }

    // ---- 2: the same messages through RemoteDelivery ----

    private double remoteDelivery(JamesProcess james, JamesProcess.Ports ports, SmtpSink sink, byte[] message, int messages)
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
    private void isolation(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        int perDomain = Math.max(1, messages / sessions);
        List<Double> idle = new ArrayList<>();
        List<Double> busy = new ArrayList<>();
        boolean overlapped = true;
        double drained = 0;
        List<String> parallelRates = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            inject(ports.inbound(), "bench-#.example", perDomain * sessions, message, sessions);
            waitFor(Duration.ofMinutes(30), () -> IntStream.range(0, sessions)
                .allMatch(i -> parkedQuietly(ports.webAdmin(), "bench-" + i + ".example") >= perDomain));
            settle(james.pid());
            idle.addAll(latencies(ports, message, probes));
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
            busy.addAll(latencies(ports, message, probes));
            overlapped &= drains.stream().anyMatch(drain -> !drain.isDone());
            int roundDrained = drains.stream().map(CompletableFuture::join).mapToInt(Drain::count).sum();
            drained += roundDrained;
            parallelRates.add(rate(roundDrained / ((System.nanoTime() - drainStart) / 1e9)));
        }
        notes.add("Isolation: " + sessions + " drains at once, all their messages over the time until the last ended, per round: "
            + String.join(", ", parallelRates) + ".");
        String samples = idle.size() + " one-message SMTP sessions each" + (rounds > 1 ? " (" + rounds + " rounds pooled)" : "");
        row("inbound latency p50, idle / during " + sessions + " drains", ms(percentile(idle, 50)) + " / " + ms(percentile(busy, 50)),
            "", samples);
        row("inbound latency p99, idle / during " + sessions + " drains", ms(percentile(idle, 99)) + " / " + ms(percentile(busy, 99)),
            "ratio " + ratio(percentile(busy, 99) / percentile(idle, 99)), "target ratio < 2");
        if (!overlapped) {
            notes.add("Isolation: in some round the " + sessions + " drains (" + (int) drained + " messages in all) ended before the"
                + " latency probes did; raise bench.messages for a longer overlap.");
        }
    }

    private static List<Double> latencies(JamesProcess.Ports ports, byte[] message, int count) throws IOException {
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            Inbound.send(ports.inbound(), "sender@sender.test", List.of("probe@probes.example"), message);
            millis.add((System.nanoTime() - start) / 1e6);
        }
        return millis;
    }

    // ---- 5: independence from other domains' backlog ----

    /**
     * Measured as A-B-A: empty, with the backlog parked, then empty again once the backlog is
     * removed. The two empty cases bracket the loaded one, so a drift of the machine or the JVM
     * during the phase (seen: +/-10% between consecutive measurements) shows as a difference
     * between them rather than passing for an effect of the backlog.
     */
    private void independence(JamesProcess james, JamesProcess.Ports ports, byte[] message) throws Exception {
        Duration replyBefore = medianAtrnReply(james, ports, message);
        Measured drainBefore = settledDrain(james, ports, message);
        byte[] small = realisticMessage(2048);
        Duration parking = injectAndAwaitSpread(ports, backlog, small);
        Duration loadedReply = medianAtrnReply(james, ports, message);
        Measured loaded = settledDrain(james, ports, message);
        removeBacklog(ports);
        Duration replyAfter = medianAtrnReply(james, ports, message);
        Measured drainAfter = settledDrain(james, ports, message);
        double emptyReplyNanos = (replyBefore.toNanos() + replyAfter.toNanos()) / 2.0;
        double emptyRate = (drainBefore.drain().perSecond() + drainAfter.drain().perSecond()) / 2;
        double emptyCpu = (drainBefore.cpuMillisPerMessage() + drainAfter.cpuMillisPerMessage()) / 2;
        row("ATRN 250 latency (median of " + REPLY_SAMPLES + "), empty / " + backlog + " other messages parked / empty again",
            millis(replyBefore) + " / " + millis(loadedReply) + " / " + millis(replyAfter),
            "ratio " + ratio(loadedReply.toNanos() / emptyReplyNanos),
            "to the mean of both empty cases; backlog parked in " + Math.round(seconds(parking)) + " s");
        row("ATRN drain rate (median of " + rounds + " each), empty / with backlog / empty again",
            rate(drainBefore.drain().perSecond()) + " / " + rate(loaded.drain().perSecond()) + " / " + rate(drainAfter.drain().perSecond()),
            "ratio " + ratio(loaded.drain().perSecond() / emptyRate), "to the mean of both empty cases; target within 10%");
        row("James CPU per drained message (median of " + rounds + " each), empty / with backlog / empty again",
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
        List<Drain> drains = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        Path stat = Path.of("/proc", String.valueOf(james.pid()), "stat");
        for (int round = 0; round < rounds; round++) {
            injectAndAwait(ports, DOMAIN, messages, message);
            settle(james.pid());
            long ticks = cpuTicks(stat);
            drains.add(drain(ports, DOMAIN, messages));
            // clock ticks are 10 ms (USER_HZ 100)
            cpu.add((cpuTicks(stat) - ticks) * 10.0 / messages);
        }
        notes.add("Backlog phase drains (msg/s; James CPU ms per message): " + IntStream.range(0, rounds)
            .mapToObj(i -> rate(drains.get(i).perSecond()) + "; " + String.format(Locale.ROOT, "%.2f", cpu.get(i)))
            .collect(Collectors.joining(", ")) + ".");
        List<Drain> sorted = new ArrayList<>(drains);
        sorted.sort((a, b) -> Double.compare(a.perSecond(), b.perSecond()));
        return new Measured(sorted.get(sorted.size() / 2), median(cpu));
    }

    /** Through our WebAdmin route, as an operator would; synchronous, so counted down to zero. */
    private void removeBacklog(JamesProcess.Ports ports) throws Exception {
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
        for (int i = 0; i < REPLY_SAMPLES; i++) {
            String domain = "bench-" + (i % sessions) + ".example";
            injectAndAwait(ports, domain, 1, message);
            nanos.add(drain(ports, domain, 1).toReply().toNanos());
        }
        Collections.sort(nanos);
        notes.add("ATRN 250 latency samples, sorted (ms): " + nanos.stream().map(n -> String.format(Locale.ROOT, "%.2f", n / 1e6))
            .collect(Collectors.joining(" ")) + ".");
        return Duration.ofNanos(nanos.get(nanos.size() / 2));
    }

    /**
     * Before every measured drain, RemoteDelivery run and set of 250 latency samples: whatever was
     * just written reaches the disk ({@code sync}) and James's process goes quiet (under 5% of a
     * core over one second, read from /proc), so that no case runs while the kernel writes back
     * or James finishes parking, and every case removes messages that are on disk, as parked mail
     * is in real life (deleting files never written back is cheaper: measured drains were about
     * 20% faster without this).
     */
    private static void settle(long pid) throws IOException, InterruptedException {
        sync();
        Path stat = Path.of("/proc", String.valueOf(pid), "stat");
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
    private static void sync() throws IOException, InterruptedException {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }

    /** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
    private static long cpuTicks(Path stat) throws IOException {
        String line = Files.readString(stat);
        String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private Duration injectAndAwaitSpread(JamesProcess.Ports ports, int count, byte[] message) throws Exception {
        long start = System.nanoTime();
        int connections = 4;
        List<CompletableFuture<Duration>> senders = IntStream.range(0, connections)
            .mapToObj(c -> CompletableFuture.supplyAsync(() -> {
                try {
                    return inject(ports.inbound(), "backlog-#.example", count / connections, message, 10);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            })).collect(Collectors.toList());
        senders.forEach(CompletableFuture::join);
        int expected = (count / connections) * connections;
        waitFor(Duration.ofHours(1), () -> IntStream.range(0, 10).mapToLong(i -> parkedQuietly(ports.webAdmin(), "backlog-" + i + ".example")).sum() >= expected);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    // ---- 6: big messages with a small heap ----

    private void memory(Path work) throws Exception {
        JamesProcess.Ports ports = freePorts();
        byte[] big = realisticMessage(bigSize);
        try (JamesProcess james = JamesProcess.start(work, HOST, ports, work.resolveSibling("james-256m.log"), "256m",
            conf -> benchmarkConfiguration(conf, 9))) {
            injectAndAwait(ports, DOMAIN, bigMessages, big);
            HeapWatch watch = new HeapWatch(james.pid());
            watch.start();
            Drain drain = drain(ports, DOMAIN, bigMessages);
            watch.stop();
            row(bigMessages + " messages of " + (bigSize / 1024 / 1024) + " MB drained at -Xmx256m",
                rate(drain.perSecond()), String.format(Locale.ROOT, "%.1f MB/s", drain.megabytesPerSecond()),
                "completed; peak heap used " + watch.peakMegabytes() + " MB (jstat, every 200 ms)");
        }
    }

    /** Polls jstat for the James process: heap used = survivors + eden + old. */
    private static final class HeapWatch {
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

    // ---- 4: Postfix flushing a held queue to the same sink ----

    private void postfix(SmtpSink sink, byte[] message) {
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
            row("Postfix " + postfix.version() + ": held queue flushed to the same sink", rate(rate), "",
                "default concurrency; " + messages + " held in " + Math.round(seconds(parking)) + " s");
            postfixRate = Optional.of(rate);
            postfix.stop();
        } catch (Exception e) {
            notes.add("Postfix skipped: " + e.getMessage());
        }
    }

    private Optional<Double> postfixRate = Optional.empty();

    // ---- reporting ----

    private void row(String what, String rate, String extra, String note) {
        rows.add(new String[] {what, rate, extra, note});
        System.out.printf(Locale.ROOT, "%-70s %-22s %-18s %s%n", what, rate, extra, note);
    }

    private void report() throws IOException {
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
            .append("- messages: ").append(messages).append(" of ").append(size).append(" bytes (multipart MIME); James 3.8.1 memory app, ")
            .append("parked-mail store `").append(storePrefix()).append("`, James JVM -Xmx1g; every peer on loopback\n\n")
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

    // ---- helpers ----

    /** Where the benchmark's James parks mail: bench.store, else the sample atrn.xml's repositoryUrlPrefix. */
    private String storePrefix() throws IOException {
        String chosen = System.getProperty("bench.store");
        if (chosen != null) {
            return chosen;
        }
        String sample = Files.readString(root.resolve("config-samples/atrn.xml"));
        java.util.regex.Matcher prefix = java.util.regex.Pattern.compile("<repositoryUrlPrefix>([^<]+)</repositoryUrlPrefix>").matcher(sample);
        if (!prefix.find()) {
            throw new IllegalStateException("config-samples/atrn.xml has no repositoryUrlPrefix");
        }
        return prefix.group(1);
    }

    /** A diagnostic command to the James JVM (Flight Recorder for {@code bench.jfr}). */
    private static void jcmd(long pid, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
            String.valueOf(pid)));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** About {@code size} bytes of multipart/alternative mail with a base64 attachment, like real traffic. */
    static byte[] realisticMessage(int size) {
        StringBuilder text = new StringBuilder();
        String words = "Dear customer, your parked mail is waiting for you. Please collect it at your convenience. ";
        StringBuilder mime = new StringBuilder()
            .append("Return-Path: <sender@sender.test>\r\nFrom: \"Sender\" <sender@sender.test>\r\nTo: <user@customer.example>\r\n")
            .append("Subject: Benchmark message with some realistic structure\r\nDate: Tue, 24 Nov 2026 08:00:00 +0000\r\n")
            .append("Message-ID: <bench@sender.test>\r\nMIME-Version: 1.0\r\n")
            .append("Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n")
            .append("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        while (text.length() < size / 3) {
            text.append(words).append("\u00e9t\u00e9 caf\u00e9\r\n");
        }
        mime.append(text).append("\r\n--outer\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n")
            .append("Content-Transfer-Encoding: base64\r\n\r\n");
        byte[] head = mime.toString().getBytes(StandardCharsets.UTF_8);
        int remaining = Math.max(0, size - head.length - 20);
        StringBuilder base64 = new StringBuilder();
        java.util.Random random = new java.util.Random(size);
        while (base64.length() < remaining) {
            byte[] chunk = new byte[57];
            random.nextBytes(chunk);
            base64.append(java.util.Base64.getEncoder().encodeToString(chunk)).append("\r\n");
        }
        return (mime + base64.toString() + "--outer--\r\n").getBytes(StandardCharsets.UTF_8);
    }

    private static long parked(int webAdminPort, String domain) throws IOException, InterruptedException {
        String path = URLEncoder.encode("var/mail/atrn/" + domain, StandardCharsets.UTF_8);
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
            "http://" + HOST + ":" + webAdminPort + "/mailRepositories/" + path)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return 0;
        }
        String body = response.body();
        int at = body.indexOf("\"size\":");
        return at < 0 ? 0 : Long.parseLong(body.substring(at + 7).split("[,}]")[0].trim());
    }

    private static long parkedQuietly(int webAdminPort, String domain) {
        try {
            return parked(webAdminPort, domain);
        } catch (IOException | InterruptedException e) {
            return 0;
        }
    }

    /** Polls a condition that has no event to wait on (a count seen through WebAdmin or a sink). */
    static void waitFor(Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not reached within " + limit);
            }
            Thread.sleep(50);
        }
    }

    private static void expect(List<String> reply, String code) throws IOException {
        if (!reply.get(reply.size() - 1).startsWith(code)) {
            throw new IOException("expected " + code + " but got " + reply);
        }
    }

    private static JamesProcess.Ports freePorts() {
        return new JamesProcess.Ports(JamesProcess.freePort(), JamesProcess.freePort(), JamesProcess.freePort());
    }


    private static double percentile(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    private static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%.0f msg/s", perSecond);
    }

    private static String mb(long bytes, Duration d) {
        return String.format(Locale.ROOT, "%.1f MB/s", bytes / 1e6 / seconds(d));
    }

    private static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2fx", r);
    }

    private static String ms(double millis) {
        return String.format(Locale.ROOT, "%.1f ms", millis);
    }

    private static String millis(Duration d) {
        return String.format(Locale.ROOT, "%.1f ms", d.toNanos() / 1e6);
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
