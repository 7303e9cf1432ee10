package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.LoopbackServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;
import dev.jamesatrn.testing.smtp.Wire;

/**
 * Replies James cannot trust, from the ATRN customer in the reversed session and from an MX
 * after ETRN: endless multi-line replies, a reply line longer than James's line framer takes, a
 * 421 to end-of-data, an enhanced status code of the wrong class. Whatever the peer does, James
 * ends the session promptly, sends nothing more, keeps the mail parked and frees the domain.
 */
class HostileRepliesTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final FloodingMx FLOODING_MX = FloodingMx.start();
    // The peer streams for at most this long and this much: the test ends even if James never
    // cuts it off, and an unbounded James keeps no more than this in memory while it fails.
    private static final Duration FLOOD_TIME = Duration.ofSeconds(60);
    private static final long FLOOD_BYTES = 32L * 1024 * 1024;
    // "Within seconds": far above what it takes (well under a second here), far below FLOOD_TIME.
    private static final Duration PROMPTLY = Duration.ofSeconds(20);

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(HostileRepliesTest::configure);

    private static void configure(Path workingDirectory) {
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<domains>",
            "<domain name=\"flood.etrn.example\"><login>customer</login><etrnRelay>127.0.0.1:" + FLOODING_MX.port()
            + "</etrnRelay></domain>");
    }

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        server.getProbe(ParkedProbe.class).clear("customer.example", "customer2.example", "flood.etrn.example");
    }

    @AfterAll
    static void stopTheMx() throws IOException {
        FLOODING_MX.close();
    }

    private static ParkedProbe probe(GuiceJamesServer server) {
        return server.getProbe(ParkedProbe.class);
    }

    /** Parked for alice, from a sender in another ATRN domain, so a DSN would be parked where the test sees it. */
    private static void parkWithVisibleBounces(GuiceJamesServer server, String subject) throws Exception {
        long before = probe(server).count("customer.example");
        List<String> replies = Inbound.send(PORTS.inboundPort, "postmaster@customer2.example",
            List.of("alice@customer.example"), Messages.simple(subject, "alice@customer.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer.example") == before + 1);
    }

    // ---- issue 13 item 3: unbounded replies ----

    /**
     * Five times over, so that James's own line framer is measured too: in 3.8.1, while it guards
     * against STARTTLS injection, it rescans all its unread input before each line, and without
     * turning that off for the reversed session it went on for up to 16 s after a cut-off
     * (measured, 12 rounds: 0.03 to 15.8 s each; the ODMR port stopped greeting once all its
     * framer threads were at it). With it off: under 0.1 s.
     */
    @Test
    void atrnCustomersStreamingEndlessEhloRepliesAreCutOffAndJamesIsDoneWithThemAtOnce(GuiceJamesServer server) throws Exception {
        parkWithVisibleBounces(server, "flooded");

        Duration framerBusy = Duration.ZERO;
        for (int round = 0; round < 5; round++) {
            Flood flood;
            try (OdmrClient client = reversed()) {
                client.sendRaw("220 customer.example ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(client.readReply().get(0)).startsWith("EHLO ");
                flood = Flood.stream(client::sendRaw, client::closedByPeer, client);
            }
            assertThat(flood.cutOffByJames).as("round %d, James ended the session: %s", round, flood).isTrue();
            assertThat(flood.took).as("round %d: %s", round, flood).isLessThan(PROMPTLY);
            long start = System.nanoTime();
            await().atMost(30, SECONDS).pollInterval(Duration.ofMillis(20)).until(HostileRepliesTest::noFramerAtWork);
            framerBusy = framerBusy.plusNanos(System.nanoTime() - start);
        }

        assertThat(framerBusy).as("time James's framer still spent on what the customers sent").isLessThan(Duration.ofSeconds(5));
        assertThat(probe(server).count("customer.example")).as("still parked").isEqualTo(1);
        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = reversed()) {
            client.serve(customer);
        }
        assertThat(customer.received).hasSize(1);
        assertThat(probe(server).count("customer2.example")).as("no bounce").isZero();
    }

    /**
     * Past ATRN's 250. The claim of a session that was cut off is given back as it ends, so a
     * new ATRN is served at once; a 451 is only retried for the moment the ending session
     * needs to get there.
     */
    private static OdmrClient reversed() {
        return await().atMost(5, SECONDS).until(() -> {
            OdmrClient client = PORTS.authenticated("customer", "customer-secret");
            if (client.command("ATRN customer.example").get(0).startsWith("250")) {
                return client;
            }
            client.close();
            return null;
        }, Objects::nonNull);
    }

    private static boolean noFramerAtWork() {
        return Thread.getAllStackTraces().values().stream().flatMap(Arrays::stream)
            .noneMatch(frame -> frame.getClassName().endsWith(".AllButStartTlsLineBasedChannelHandler"));
    }

    @Test
    void anMxStreamingAnEndlessEhloReplyAfterEtrnIsCutOffAndTheDomainIsFreeAtOnce(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "flood.etrn.example", "x@flood.etrn.example", Messages.simple("etrn-flooded", "x@flood.etrn.example"));
        FLOODING_MX.floods.clear();

        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN flood.etrn.example").get(0)).startsWith("253 ");
            Flood flood = FLOODING_MX.floods.poll(FLOOD_TIME.toSeconds() + 60, SECONDS);

            assertThat(flood).as("the MX was connected to").isNotNull();
            assertThat(flood.cutOffByJames).as("James ended the session: %s", flood).isTrue();
            assertThat(flood.took).as("%s", flood).isLessThan(PROMPTLY);
            // the claim was given back with the session: a new ETRN is taken on, not told 458
            await().atMost(5, SECONDS).until(() -> client.command("ETRN flood.etrn.example").get(0).startsWith("253 "));
        }
        assertThat(probe(server).count("flood.etrn.example")).as("still parked").isEqualTo(1);
    }

    // ---- issue 13 item 4: a reply line longer than James's framer takes ----

    /**
     * The customer of the issue: no PIPELINING, an EHLO reply holding a 9,000-byte line, and a
     * 550 for whatever line it gets next. James 3.8.1's framer drops such a line and answered
     * it "500 Line length exceeded" inside the reversed session; the customer's 550 to that was
     * then taken as the reply to MAIL FROM and the message was bounced.
     */
    @Test
    void anOverlongReplyLineEndsTheReversedSessionUnansweredAndTheMailStaysParked(GuiceJamesServer server) throws Exception {
        parkWithVisibleBounces(server, "overlong");

        List<String> receivedAfterTheLongLine = new ArrayList<>();
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.sendRaw("220 customer.example ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(client.readReply().get(0)).startsWith("EHLO ");
            client.sendRaw(("250-customer.example\r\n250-" + "X".repeat(9000) + "\r\n250 8BITMIME\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            while (true) {
                List<String> line;
                try {
                    line = client.readReply();
                } catch (EOFException e) {
                    break; // closed by James, the one thing it may do
                }
                receivedAfterTheLongLine.addAll(line);
                client.sendRaw("550 5.7.1 refused\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        }

        assertThat(receivedAfterTheLongLine).as("nothing written after the over-long line").isEmpty();
        assertThat(probe(server).all("customer.example")).as("still parked").singleElement()
            .satisfies(parked -> assertThat(parked.recipients()).containsExactly("alice@customer.example"));
        assertThat(probe(server).count("customer2.example")).as("no bounce").isZero();
    }

    // ---- issue 13 item 11 ----

    @Test
    void a421ToEndOfDataEndsTheSessionAtOnceAndNothingMoreIsSent(GuiceJamesServer server) throws Exception {
        parkWithVisibleBounces(server, "closing-1");
        parkWithVisibleBounces(server, "closing-2");
        CustomerServer closing = new CustomerServer((step, index, reply) ->
            Optional.of(step.equals("END") ? "421 4.3.2 shutting down" : reply));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            try {
                client.serve(closing);
            } catch (EOFException e) {
                // James hung up after the 421, as it should
            }
        }

        assertThat(closing.commands).as("nothing after the 421, not even QUIT").last().isEqualTo("DATA");
        assertThat(closing.commands.stream().filter(command -> command.startsWith("MAIL FROM")).count()).isEqualTo(1);
        assertThat(probe(server).count("customer.example")).as("both still parked").isEqualTo(2);
        assertThat(probe(server).count("customer2.example")).as("no bounce").isZero();
    }

    @Test
    void aPermanentReplyWithATransientEnhancedCodeBouncesWithAPermanentStatus(GuiceJamesServer server) throws Exception {
        parkWithVisibleBounces(server, "wrong-class");
        CustomerServer customer = new CustomerServer((step, index, reply) ->
            Optional.of(step.startsWith("RCPT") ? "550 4.2.2 mailbox full" : reply));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        await().atMost(30, SECONDS).until(() -> probe(server).count("customer2.example") == 1);
        String dsn = new String(probe(server).all("customer2.example").get(0).bytes(), StandardCharsets.ISO_8859_1);
        // RFC 3463 section 2: the class of the enhanced code must agree with the reply code; the
        // reply code (550) is what decided the bounce, so it decides the class too.
        assertThat(dsn).contains("Action: failed").contains("Status: 5.2.2").doesNotContain("Status: 4.2.2");
        assertThat(probe(server).count("customer.example")).isZero();
    }

    // ---- test peers ----

    interface Sender {
        void send(byte[] bytes) throws IOException;
    }

    interface CloseWatcher {
        /** Reads until the other end closes (true) or the read times out (false). */
        boolean closedByPeer() throws IOException;
    }

    /** What a peer streaming "250-" continuation lines saw. */
    static final class Flood {
        private static final ScheduledExecutorService LIMITS = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "flood-limit");
            thread.setDaemon(true);
            return thread;
        });

        final boolean cutOffByJames;
        final Duration took;
        final long bytesSent;

        private Flood(boolean cutOffByJames, Duration took, long bytesSent) {
            this.cutOffByJames = cutOffByJames;
            this.took = took;
            this.bytesSent = bytesSent;
        }

        /**
         * Streams continuation lines of one never-ending reply until James cuts the connection,
         * {@link #FLOOD_TIME} passes or {@link #FLOOD_BYTES} are sent; in the last case, waits
         * for James to close (the watcher's read timeout). A write blocked because James stopped
         * reading without closing is ended by closing our end at {@link #FLOOD_TIME}.
         */
        static Flood stream(Sender sender, CloseWatcher watcher, AutoCloseable connection) {
            byte[] lines = ("250-" + "x".repeat(60) + "\r\n").repeat(1000).getBytes(StandardCharsets.US_ASCII);
            AtomicBoolean limitReached = new AtomicBoolean();
            ScheduledFuture<?> limit = LIMITS.schedule(() -> {
                limitReached.set(true);
                try {
                    connection.close();
                } catch (Exception e) {
                    // closing is all we wanted
                }
            }, FLOOD_TIME.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            long sent = 0;
            try {
                while (sent < FLOOD_BYTES && !limitReached.get()) {
                    sender.send(lines);
                    sent += lines.length;
                }
                boolean closed = !limitReached.get() && watcher.closedByPeer();
                return new Flood(closed && !limitReached.get(), Duration.ofNanos(System.nanoTime() - start), sent);
            } catch (IOException e) {
                return new Flood(!limitReached.get(), Duration.ofNanos(System.nanoTime() - start), sent);
            } finally {
                limit.cancel(false);
            }
        }

        @Override
        public String toString() {
            return "Flood[cutOffByJames=" + cutOffByJames + ", took=" + took.toMillis() + " ms, bytesSent=" + bytesSent + "]";
        }
    }

    /** An MX that greets, reads EHLO and answers it with continuation lines without end. */
    static final class FloodingMx implements AutoCloseable {
        final BlockingQueue<Flood> floods = new LinkedBlockingQueue<>();
        private final LoopbackServer server;

        private FloodingMx() throws IOException {
            server = LoopbackServer.start("flooding-mx", this::serve);
        }

        static FloodingMx start() {
            try {
                return new FloodingMx();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        int port() {
            return server.port();
        }

        private void serve(Socket socket) throws IOException {
            socket.setSoTimeout(30_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            Wire.writeLine(out, "220 flooding.example ESMTP");
            if (!Wire.readTextLine(in).startsWith("EHLO ")) {
                return;
            }
            floods.add(Flood.stream(out::write, () -> {
                try {
                    while (in.read() >= 0) {
                        // anything James still sends is not our concern
                    }
                    return true;
                } catch (SocketTimeoutException e) {
                    return false;
                } catch (IOException e) {
                    return true;
                }
            }, socket));
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
