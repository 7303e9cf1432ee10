package dev.jamesatrn.testing.benchmark;

import static dev.jamesatrn.testing.benchmark.ProcProbes.jcmd;
import static dev.jamesatrn.testing.benchmark.ProcProbes.settle;
import static dev.jamesatrn.testing.benchmark.Report.median;
import static dev.jamesatrn.testing.benchmark.Report.rate;
import static dev.jamesatrn.testing.benchmark.Report.ratio;
import static dev.jamesatrn.testing.benchmark.Report.seconds;
import static dev.jamesatrn.testing.benchmark.Traffic.DOMAIN;
import static dev.jamesatrn.testing.benchmark.Traffic.HOST;
import static dev.jamesatrn.testing.benchmark.Traffic.inject;
import static dev.jamesatrn.testing.benchmark.Traffic.parkedQuietly;
import static dev.jamesatrn.testing.benchmark.Traffic.waitFor;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.jamesatrn.testing.host.Fetchmail;
import dev.jamesatrn.testing.james.CustomerConf;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesProcess;

/**
 * James as the ODMR customer: how fast a second James (its own process, laid out from
 * config-samples as {@link CustomerConf} makes a customer) receives the same messages three
 * ways, for its local user: over SMTP on its inbound port (James's own inbound rate), pulled
 * natively from the benchmark's provider James with ATRN, and relayed by fetchmail in ODMR mode
 * from the same provider into the same inbound port. Rate: messages over the time from the start
 * of the session (SMTP connection opened, WebAdmin poll requested, fetchmail started) until the
 * customer's mailet container has stored the last of them, seen through WebAdmin every 50 ms.
 *
 * <p>Stored, not delivered to the INBOX: the local-delivery processor ends in a file mail
 * repository instead of LocalDelivery. The memory James's mailbox guesses each appended
 * message's thread with a search that parses the headers of every message already in the
 * mailbox (SimpleMessageSearchIndex, seen in Flight Recorder profiles), so delivering N messages
 * to one INBOX costs O(N squared) and the rate would measure that, whichever way the mail came.
 */
final class CustomerCases {
    static final String USER = "bench@" + DOMAIN;
    private static final String PROVIDER = "bench";
    private static final String STORE = "var/mail/customer-delivered";
    private static final Pattern LAST_POLL = Pattern.compile(
        "\"pollingNow\":(true|false).*\"lastPoll\":\\{\"startedAt\":\"([^\"]+)\".*?\"result\":\"([A-Z_]+)\".*?"
            + "\"messages\":(\\d+).*?\"durationMs\":(\\d+)");

    private final Settings settings;
    private final Report report;
    private final HttpClient http = HttpClient.newHttpClient();

    CustomerCases(Settings settings, Report report) {
        this.settings = settings;
        this.report = report;
    }

    /**
     * One measurement: time to the last message's 250 (end of the session) and to the last in the
     * customer's store; CPU time of each James per message over the latter (clock ticks of 10 ms, from /proc).
     */
    private record Received(Duration toSessionEnd, Duration toStored, int count, double customerCpuMillis, double providerCpuMillis) {
        double perSecond() {
            return count / seconds(toStored);
        }

        double sessionPerSecond() {
            return count / seconds(toSessionEnd);
        }
    }

    /** The three ways in turn, {@code rounds} times, after a warm-up of each; rows give the median round. */
    void receiveRates(JamesProcess provider, JamesProcess.Ports providerPorts, Path work, byte[] message) throws Exception {
        JamesProcess.Ports ports = BenchmarkJames.freePorts();
        // Plain ODMR for both customers: fetchmail's only TLS mode is implicit TLS, which our
        // provider serves with a TLS record per line (the "tls" rows measure that cost on its own).
        String providerXml = String.join("\n",
            "<provider name=\"" + PROVIDER + "\">",
            "  <host>" + HOST + "</host><port>" + providerPorts.odmr() + "</port>",
            "  <tls>none</tls><allowPlaintext>true</allowPlaintext>",
            "  <login>customer</login><secret>" + Traffic.SECRET + "</secret>",
            "  <domains>" + DOMAIN + "</domains>",
            // only the polls the benchmark asks for (the first, at start, finds nothing)
            "  <pollInterval>1d</pollInterval>",
            "</provider>");
        Files.createDirectories(work);
        boolean fetchmail = Fetchmail.installed() && !settings.skips("fetchmail");
        if (!Fetchmail.installed()) {
            report.note("Customer: fetchmail skipped: " + Fetchmail.NOT_INSTALLED + ".");
        }
        try (JamesProcess customer = JamesProcess.start(work.resolve("customer"), HOST, ports, work.resolve("customer.log"), "1g",
                conf -> {
                    CustomerConf.apply(conf, providerXml, Map.of(USER, "bench-user-secret"));
                    JamesLayout.replace(conf.getParent(), "mailetcontainer.xml", "<mailet match=\"All\" class=\"LocalDelivery\"/>",
                        "<mailet match=\"All\" class=\"ToRepository\"><repositoryPath>file://" + STORE + "</repositoryPath></mailet>");
                })) {
            Optional<String[]> cpus = cpuHalves();
            if (cpus.isPresent()) {
                ProcProbes.pin(customer.pid(), cpus.get()[0]);
                ProcProbes.pin(provider.pid(), cpus.get()[1]);
                report.note("Customer case: the customer James (and fetchmail) ran on CPUs " + cpus.get()[0] + ", the provider James on "
                    + cpus.get()[1] + " (taskset), as on two machines; unpinned, the provider's work per pulled message competes with"
                    + " the customer's for the same cores, which inbound SMTP from the benchmark's free sender never does.");
            } else {
                report.note("Customer case: not pinned to CPUs (taskset missing or one CPU): the provider James shares the customer's cores.");
            }
            try {
                measureAll(provider, providerPorts, customer, ports, work, message, fetchmail, cpus.map(halves -> halves[0]));
            } finally {
                if (cpus.isPresent()) {
                    ProcProbes.pin(provider.pid(), "0-" + (Runtime.getRuntime().availableProcessors() - 1));
                }
            }
        }
    }

    /** CPUs for the customer (first half) and the provider (second half), when taskset can bind them. */
    private static Optional<String[]> cpuHalves() {
        int cpus = Runtime.getRuntime().availableProcessors();
        if (cpus < 2 || !Files.isExecutable(Path.of("/usr/bin/taskset"))) {
            return Optional.empty();
        }
        int half = cpus / 2;
        return Optional.of(new String[] {"0-" + (half - 1), half + "-" + (cpus - 1)});
    }

    private void measureAll(JamesProcess provider, JamesProcess.Ports providerPorts, JamesProcess customer, JamesProcess.Ports ports,
                            Path work, byte[] message, boolean fetchmail, Optional<String> customerCpus) throws Exception {
        Measure measure = new Measure(provider, providerPorts, customer, ports, work, message, customerCpus);
        waitFor(Duration.ofMinutes(2), () -> measure.lastPoll().map(poll -> !poll.polling()).orElse(false));
        int warmup = Math.min(settings.warmup, settings.messages);
        if (warmup > 0) {
            measure.inbound(warmup);
            measure.pulled(warmup);
            // none for fetchmail: a C program, and the customer's inbound path it relays into is warm now
            report.note("Customer warm-up: " + warmup + " messages each over the customer's inbound SMTP and by native pull"
                + " before anything was measured.");
        }
        List<Received> inbound = new ArrayList<>();
        List<Received> pulled = new ArrayList<>();
        List<Received> relayed = new ArrayList<>();
        Optional<Path> recording = Optional.ofNullable(System.getProperty("bench.jfr")).map(Path::of);
        for (int round = 0; round < settings.rounds; round++) {
            boolean profiled = round == 0 && recording.isPresent();
            inbound.add(profiled ? recorded(customer, recording.get(), "inbound", () -> measure.inbound(settings.messages))
                : measure.inbound(settings.messages));
            pulled.add(profiled ? recorded(customer, recording.get(), "pull", () -> measure.pulled(settings.messages))
                : measure.pulled(settings.messages));
            if (fetchmail) {
                relayed.add(measure.fetchmail(settings.messages));
            }
        }
        String of = settings.ofRounds();
        Received in = middle(inbound);
        Received pull = middle(pulled);
        report.row("Customer James: inbound SMTP stored by its mailet container" + of, rate(in.perSecond()), "last 250: " + rate(in.sessionPerSecond()),
            "1 connection, " + settings.messages + " messages, as the ATRN provider's inbound row");
        report.row("Customer James: native ODMR pull (ATRN) stored by its mailet container" + of, rate(pull.perSecond()),
            "last 250: " + rate(pull.sessionPerSecond()), "one poll asked for through WebAdmin, plain ODMR port");
        report.row("ratio native pull / customer inbound", ratio(pull.perSecond() / in.perSecond()),
            "last 250: " + ratio(pull.sessionPerSecond() / in.sessionPerSecond()), "target >= 0.9");
        report.row("customer James CPU per message, inbound / native pull", cpuMillis(in) + " / " + cpuMillis(pull),
            "ratio " + ratio(pull.customerCpuMillis() / in.customerCpuMillis()),
            "median rounds; the provider James adds " + cpuMillis(pull.providerCpuMillis()) + " per pulled message");
        String rounds = "Customer rounds (inbound / native pull" + (fetchmail ? " / fetchmail" : "")
            + ", msg/s until stored): " + IntStream.range(0, settings.rounds)
            .mapToObj(i -> rate(inbound.get(i).perSecond()) + " / " + rate(pulled.get(i).perSecond())
                + (fetchmail ? " / " + rate(relayed.get(i).perSecond()) : ""))
            .collect(Collectors.joining("; ")) + ".";
        if (fetchmail) {
            Received relay = middle(relayed);
            report.row("Customer James: fetchmail --protocol odmr relaying into its SMTP port" + of, rate(relay.perSecond()),
                "last 250: " + rate(relay.sessionPerSecond()), measure.fetchmailVersion() + ", same provider, same messages");
            report.row("ratio native pull / fetchmail", ratio(pull.perSecond() / relay.perSecond()),
                "last 250: " + ratio(pull.sessionPerSecond() / relay.sessionPerSecond()), "target >= 1.5");
        }
        report.note(rounds);
        report.note("Customer CPU per message, median round (ms, customer James / provider James, from /proc/PID/stat): inbound "
            + cpu(in) + ", native pull " + cpu(pull) + (fetchmail ? ", fetchmail " + cpu(middle(relayed)) : "")
            + " (fetchmail's own CPU not counted).");
        // CPU per message x messages per second: near 100% the customer's own CPU sets the rate,
        // and nothing the provider does faster (or overlaps better) can raise the pull's.
        int cpus = customerCpus.map(CustomerCases::cpuCount).orElse(Runtime.getRuntime().availableProcessors());
        report.note("Customer James busy during the median round (its CPU time over the elapsed time on its " + cpus
            + " CPU(s)): inbound " + busy(in, cpus) + ", native pull " + busy(pull, cpus) + ".");
    }

    /** A measurement whose customer James is recorded by Flight Recorder into {@code <bench.jfr>-customer-<what>.jfr}. */
    private Received recorded(JamesProcess customer, Path recording, String what, Callable<Received> measurement) throws Exception {
        Path file = recording.resolveSibling(recording.getFileName() + "-customer-" + what + ".jfr").toAbsolutePath();
        jcmd(customer.pid(), "JFR.start", "name=customer", "settings=profile");
        Received received = measurement.call();
        jcmd(customer.pid(), "JFR.dump", "name=customer", "filename=" + file);
        jcmd(customer.pid(), "JFR.stop", "name=customer");
        report.note("Profiled: the customer James during the first measured " + what + " was recorded by Flight Recorder into " + file);
        return received;
    }

    private static String cpuMillis(Received received) {
        return cpuMillis(received.customerCpuMillis());
    }

    private static String cpuMillis(double millis) {
        return String.format(Locale.ROOT, "%.2f ms", millis);
    }

    private static String cpu(Received received) {
        return String.format(Locale.ROOT, "%.2f / %.2f", received.customerCpuMillis(), received.providerCpuMillis());
    }

    private static String busy(Received received, int cpus) {
        return String.format(Locale.ROOT, "%.0f%%", received.customerCpuMillis() * received.perSecond() / 10.0 / cpus);
    }

    /** CPUs in a taskset list of ranges such as {@code 0-1} or {@code 0,2}. */
    private static int cpuCount(String list) {
        int count = 0;
        for (String range : list.split(",")) {
            String[] ends = range.split("-");
            count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
        }
        return count;
    }

    private static Received middle(List<Received> rounds) {
        List<Double> rates = rounds.stream().map(Received::perSecond).collect(Collectors.toList());
        return rounds.get(rates.indexOf(median(rates)));
    }

    /** What a poll's WebAdmin status says of the last poll. */
    private record LastPoll(boolean polling, String startedAt, String result, int messages, long durationMillis) {
    }

    /** The measurements against one provider and one customer James. */
    private final class Measure {
        private final JamesProcess provider;
        private final JamesProcess.Ports providerPorts;
        private final JamesProcess customer;
        private final JamesProcess.Ports ports;
        private final Path work;
        private final byte[] message;
        private final Optional<String> customerCpus;

        Measure(JamesProcess provider, JamesProcess.Ports providerPorts, JamesProcess customer, JamesProcess.Ports ports, Path work,
                byte[] message, Optional<String> customerCpus) {
            this.customerCpus = customerCpus;
            this.provider = provider;
            this.providerPorts = providerPorts;
            this.customer = customer;
            this.ports = ports;
            this.work = work;
            this.message = message;
        }

        Received inbound(int count) throws Exception {
            settle(customer.pid());
            long[] cpu = cpuTicks();
            long start = System.nanoTime();
            inject(ports.inbound(), count, message, i -> USER);
            long sessionEnd = System.nanoTime();
            return arrived(cpu, start, sessionEnd, count);
        }

        Received pulled(int count) throws Exception {
            park(count);
            String before = lastPoll().map(LastPoll::startedAt).orElse("");
            long[] cpu = cpuTicks();
            long start = System.nanoTime();
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(customerAdmin("/atrn/customer/providers/" + PROVIDER + "/polls"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 202) {
                throw new IllegalStateException("poll refused: " + response.statusCode() + " " + response.body());
            }
            Received received = arrived(cpu, start, start, count);
            waitFor(Duration.ofMinutes(30), () -> lastPoll().map(poll -> !poll.polling() && !poll.startedAt().equals(before)).orElse(false));
            LastPoll poll = lastPoll().orElseThrow();
            if (!poll.result().equals("RECEIVED") || poll.messages() != count) {
                throw new IllegalStateException("the customer's poll ended " + poll + ", expected RECEIVED with " + count + " messages");
            }
            // James's own measure of the session (from its start to the provider's QUIT), not a 50 ms sample
            return new Received(Duration.ofMillis(poll.durationMillis()), received.toStored(), count, received.customerCpuMillis(),
                received.providerCpuMillis());
        }

        Received fetchmail(int count) throws Exception {
            park(count);
            Path home = work.resolve("fetchmail");
            Files.createDirectories(home);
            long[] cpu = cpuTicks();
            long start = System.nanoTime();
            Fetchmail.Run run = Fetchmail.pollQuietly(home, providerPorts.odmr(), "customer", Traffic.SECRET, DOMAIN, ports.inbound(),
                Duration.ofMinutes(30), customerCpus);
            long sessionEnd = System.nanoTime();
            if (run.exitCode() != 0) {
                throw new IllegalStateException("fetchmail ended with " + run.exitCode() + ": " + run.output());
            }
            return arrived(cpu, start, sessionEnd, count);
        }

        String fetchmailVersion() throws IOException, InterruptedException {
            Process version = new ProcessBuilder(Fetchmail.BINARY.toString(), "--version").redirectErrorStream(true).start();
            String output = new String(version.getInputStream().readAllBytes());
            version.waitFor();
            Matcher number = Pattern.compile("fetchmail release ([0-9.]+)").matcher(output);
            return "fetchmail " + (number.find() ? number.group(1) : "");
        }

        /** {@code count} messages parked at the provider for the customer's user, on disk, both Jameses quiet. */
        private void park(int count) throws Exception {
            long parked = parkedQuietly(providerPorts.webAdmin(), DOMAIN);
            inject(providerPorts.inbound(), count, message, i -> USER);
            waitFor(Duration.ofMinutes(30), () -> parkedQuietly(providerPorts.webAdmin(), DOMAIN) >= parked + count);
            settle(provider.pid());
            settle(customer.pid());
        }

        /** Waits for the customer's store to hold {@code count} messages, then empties it for the next measurement. */
        private Received arrived(long[] cpuBefore, long start, long sessionEnd, int count) throws Exception {
            waitFor(Duration.ofMinutes(30), () -> stored() >= count);
            long end = System.nanoTime();
            long[] cpu = cpuTicks();
            long total = stored();
            if (total != count) {
                throw new IllegalStateException("the customer stored " + total + " messages, expected " + count);
            }
            Received received = new Received(Duration.ofNanos(sessionEnd - start), Duration.ofNanos(end - start), count,
                (cpu[0] - cpuBefore[0]) * 10.0 / count, (cpu[1] - cpuBefore[1]) * 10.0 / count);
            HttpResponse<String> cleared = http.send(HttpRequest.newBuilder(customerAdmin(storePath() + "/mails"))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
            if (cleared.statusCode() / 100 != 2) {
                throw new IllegalStateException("emptying " + STORE + " refused: " + cleared.statusCode() + " " + cleared.body());
            }
            waitFor(Duration.ofMinutes(10), () -> stored() == 0);
            return received;
        }

        private long[] cpuTicks() throws IOException {
            return new long[] {ProcProbes.cpuTicks(ProcProbes.stat(customer.pid())), ProcProbes.cpuTicks(ProcProbes.stat(provider.pid()))};
        }

        private String storePath() {
            return "/mailRepositories/" + URLEncoder.encode(STORE, StandardCharsets.UTF_8);
        }

        /** The store's size; 0 before its first message (James creates the repository then). */
        private long stored() {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(customerAdmin(storePath())).build(),
                    HttpResponse.BodyHandlers.ofString());
                Matcher size = Pattern.compile("\"size\":(\\d+)").matcher(response.body());
                return response.statusCode() == 200 && size.find() ? Long.parseLong(size.group(1)) : 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            } catch (IOException e) {
                return -1;
            }
        }

        Optional<LastPoll> lastPoll() {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(customerAdmin("/atrn/customer/providers/" + PROVIDER))
                    .build(), HttpResponse.BodyHandlers.ofString());
                Matcher poll = LAST_POLL.matcher(response.body());
                return response.statusCode() == 200 && poll.find()
                    ? Optional.of(new LastPoll(Boolean.parseBoolean(poll.group(1)), poll.group(2), poll.group(3),
                        Integer.parseInt(poll.group(4)), Long.parseLong(poll.group(5))))
                    : Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            } catch (IOException e) {
                return Optional.empty();
            }
        }

        private URI customerAdmin(String path) {
            return URI.create("http://" + HOST + ":" + ports.webAdmin() + path);
        }
    }
}
