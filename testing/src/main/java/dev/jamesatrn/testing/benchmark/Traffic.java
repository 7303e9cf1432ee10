package dev.jamesatrn.testing.benchmark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.jamesatrn.testing.james.JamesProcess;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.OdmrClient;
import dev.jamesatrn.testing.smtp.Wire;

/**
 * The benchmark's traffic, every peer on loopback: a sending MTA parking mail on the inbound
 * port, the ODMR customer draining it with ATRN (timed from its side), latency probes, and the
 * parked counts read through WebAdmin.
 */
final class Traffic {
    static final String HOST = "127.0.0.1";
    static final String DOMAIN = "customer.example";
    static final String SECRET = "bench-secret";

    private Traffic() {
    }

    /** One ATRN drain seen from the customer; {@code breakdown}: where a drained message's time goes. */
    record Drain(Duration toReply, Duration toFirst, Duration total, int count, long bytes, String breakdown) {
        double perSecond() {
            return count / Report.seconds(total);
        }

        double megabytesPerSecond() {
            return bytes / 1e6 / Report.seconds(total);
        }
    }

    /** How the benchmark's customer reaches the ODMR service. */
    enum Connection {
        PLAIN, STARTTLS, IMPLICIT_TLS
    }

    // ---- inbound: parking ----

    /** One SMTP connection, one transaction per message, as a busy sending MTA would do. */
    static Duration inject(int port, String rcptDomain, int count, byte[] message, int domainsSpread) throws IOException {
        return inject(port, count, message, i -> "user" + (i % 50) + "@"
            + (domainsSpread > 1 ? rcptDomain.replace("#", String.valueOf(i % domainsSpread)) : rcptDomain));
    }

    /** As above, the i-th message to {@code recipient.apply(i)}. */
    static Duration inject(int port, int count, byte[] message, IntFunction<String> recipient) throws IOException {
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
                Wire.writeLine(out, "MAIL FROM:<sender@sender.test>");
                expect(Wire.readReply(in), "250");
                Wire.writeLine(out, "RCPT TO:<" + recipient.apply(i) + ">");
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

    static Duration injectAndAwait(JamesProcess.Ports ports, String domain, int count, byte[] message) throws Exception {
        long start = System.nanoTime();
        inject(ports.inbound(), domain, count, message, 1);
        waitFor(Duration.ofMinutes(30), () -> parkedQuietly(ports.webAdmin(), domain) >= count);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** {@code count} messages over four connections, spread over the ten backlog domains. */
    static Duration injectAndAwaitSpread(JamesProcess.Ports ports, int count, byte[] message) throws Exception {
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

    /** One-message SMTP sessions, one after another; @return each one's time, in ms. */
    static List<Double> latencies(JamesProcess.Ports ports, byte[] message, int count) throws IOException {
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            Inbound.send(ports.inbound(), "sender@sender.test", List.of("probe@probes.example"), message);
            millis.add((System.nanoTime() - start) / 1e6);
        }
        return millis;
    }

    // ---- ODMR: draining ----

    static Drain drain(JamesProcess.Ports ports, String domain, int expected) throws Exception {
        return drain(ports, domain, expected, Connection.PLAIN);
    }

    static Drain drain(JamesProcess.Ports ports, String domain, int expected, Connection connection) throws Exception {
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
            String breakdown = String.format(Locale.ROOT, "per message: %.2f ms MAIL to end-of-data, %.2f ms from our 250 to the next MAIL",
                transactionNanos.get() / 1e6 / expected, betweenNanos.get() / 1e6 / Math.max(1, expected - 1));
            return new Drain(Duration.ofNanos(replied - start), Duration.ofNanos(firstAt.get() - start),
                Duration.ofNanos(end - start), customer.received.size(), bytes.get(), breakdown);
        }
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

    private static String loginOf(String domain) {
        return domain.startsWith("bench-") ? "bench" : domain.startsWith("backlog-") ? "backlog" : "customer";
    }

    // ---- what is parked, seen through WebAdmin ----

    static long parkedQuietly(int webAdminPort, String domain) {
        try {
            return parked(webAdminPort, domain);
        } catch (IOException | InterruptedException e) {
            return 0;
        }
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

    // ---- helpers ----

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
        Random random = new Random(size);
        while (base64.length() < remaining) {
            byte[] chunk = new byte[57];
            random.nextBytes(chunk);
            base64.append(Base64.getEncoder().encodeToString(chunk)).append("\r\n");
        }
        return (mime + base64.toString() + "--outer--\r\n").getBytes(StandardCharsets.UTF_8);
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

    static void expect(List<String> reply, String code) throws IOException {
        if (!reply.get(reply.size() - 1).startsWith(code)) {
            throw new IOException("expected " + code + " but got " + reply);
        }
    }
}
