package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.dnsservice.api.InMemoryDNSService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesMetrics;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * ETRN (RFC 1985) for ATRN domains: given mail parked for a domain, when someone sends
 * {@code ETRN domain}, James answers 253 and delivers it over a new connection to the domain's
 * {@code etrnRelay} (a local sink standing in for the customer's MX) or refuses with the RFC code.
 */
class EtrnTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final SmtpSink SINK = sink();
    private static final StartTlsSink TLS_SINK = tlsSink();
    private static final InMemoryDNSService DNS = dns();
    // Nobody listens there: ETRN starts, the connection fails, the mail must stay parked.
    private static final int DEAD_PORT = AtrnJames.freePort();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(EtrnTest::configure,
        binder -> binder.bind(DNSService.class).toInstance(DNS));

    private static SmtpSink sink() {
        try {
            return new SmtpSink();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static StartTlsSink tlsSink() {
        try {
            return new StartTlsSink();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** MX records: loop.etrn.example points back at this machine; nothing else is known. */
    private static InMemoryDNSService dns() {
        try {
            return new InMemoryDNSService()
                .registerRecord("loop.etrn.example", InetAddress.getByName("127.0.0.1"), "mx.loop.etrn.example")
                .registerRecord("mx.loop.etrn.example", InetAddress.getByName("127.0.0.1"), "mx.loop.etrn.example")
                .registerRecord("localhost", InetAddress.getByName("127.0.0.1"), "localhost")
                .registerRecord("relay.etrn.example", List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1")),
                    List.of(), List.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void configure(Path workingDirectory) {
        String relay = "<etrnRelay>127.0.0.1:" + SINK.port() + "</etrnRelay>";
        // every test here sends ETRN from 127.0.0.1, some again and again: the per-client
        // limit is tested in EtrnLoopsAndAbuseTest
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<atrn>", "<maxEtrnPerClient>1000</maxEtrnPerClient>");
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<domain name=\"customer.example\">", relay);
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<domains>",
            "<domain name=\"a.etrn.example\"><login>customer</login>" + relay + "</domain>"
            + "<domain name=\"b.etrn.example\"><login>customer</login>" + relay + "</domain>"
            + "<domain name=\"second.etrn.example\"><login>customer</login><etrnRelay>relay.etrn.example:"
            + SINK.port() + "</etrnRelay></domain>"
            + "<domain name=\"tls.etrn.example\"><login>customer</login><etrnRelay>127.0.0.1:" + TLS_SINK.port()
            + "</etrnRelay></domain>"
            + "<domain name=\"dead.etrn.example\"><login>customer</login><etrnRelay>127.0.0.1:" + DEAD_PORT
            + "</etrnRelay></domain>"
            + "<domain name=\"loop.etrn.example\"><login>customer</login></domain>"
            + "<domain name=\"nodns.etrn.example\"><login>customer</login></domain>");
    }

    @AfterAll
    static void closeSink() throws IOException {
        SINK.close();
        TLS_SINK.close();
    }

    private static List<CustomerServer.Received> receivedWithSubject(String subject) {
        return SINK.received().stream()
            .filter(message -> new String(message.data(), StandardCharsets.ISO_8859_1).contains("Subject: " + subject))
            .toList();
    }

    @Test
    void etrnOnTheInboundPortDeliversParkedMailOverANewConnection(GuiceJamesServer server) throws Exception {
        byte[] tricky = Messages.tricky("bob@customer.example");
        PORTS.park(server, "customer.example", "bob@customer.example", tricky);
        PORTS.park(server, "customer.example", "carol@customer.example", Messages.simple("etrn-two", "carol@customer.example"));

        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            assertThat(String.join("\n", client.command("EHLO somewhere.test"))).contains("250-ETRN").doesNotContain("250 ETRN\n");
            assertThat(client.command("ETRN customer.example"))
                .containsExactly("253 2.0.0 OK, 2 pending messages for node customer.example started");
        }

        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(30, SECONDS).until(() -> probe.count("customer.example") == 0);
        CustomerServer.Received two = receivedWithSubject("etrn-two").get(0);
        assertThat(two.rcptTo()).containsExactly("<carol@customer.example>");
        assertThat(SINK.received()).anySatisfy(message -> {
            assertThat(message.rcptTo()).containsExactly("<bob@customer.example>");
            assertThat(Messages.body(message.data())).isEqualTo(Messages.body(tricky));
        });
    }

    @Test
    void etrnWithAtDeliversEverySubdomainAndWorksOnTheOdmrPortWithoutAuth(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "a.etrn.example", "x@a.etrn.example", Messages.simple("etrn-at-a", "x@a.etrn.example"));
        PORTS.park(server, "b.etrn.example", "y@b.etrn.example", Messages.simple("etrn-at-b", "y@b.etrn.example"));

        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN @etrn.example"))
                .containsExactly("253 2.0.0 OK, 2 pending messages for node @etrn.example started");
        }

        await().atMost(30, SECONDS).until(() -> receivedWithSubject("etrn-at-a").size() == 1
            && receivedWithSubject("etrn-at-b").size() == 1);
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(30, SECONDS).until(() -> probe.count("a.etrn.example") == 0 && probe.count("b.etrn.example") == 0);
    }

    @Test
    void nothingParkedGets251() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN customer2.example"))
                .containsExactly("251 2.0.0 OK, no messages waiting for node customer2.example");
        }
    }

    @Test
    void refusalsUseTheCodesOfRfc1985() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN elsewhere.example").get(0))
                .isEqualTo("459 4.7.1 Node elsewhere.example not allowed: mail for it is not held here for ETRN or ATRN");
            assertThat(client.command("ETRN #uucp").get(0)).startsWith("459 4.7.1 Node #uucp not allowed: queue names");
            assertThat(client.command("ETRN").get(0)).startsWith("501 5.5.4");
            assertThat(client.command("ETRN [127.0.0.1]").get(0)).startsWith("501 5.5.4");
            assertThat(client.command("ETRN a.example b.example").get(0)).startsWith("501 5.5.4");
            assertThat(client.command("MAIL FROM:<a@sender.test>").get(0)).startsWith("250");
            assertThat(client.command("ETRN customer.example").get(0)).startsWith("503 5.5.1");
            assertThat(client.command("RSET").get(0)).startsWith("250");
            assertThat(client.command("NOOP").get(0)).as("the session goes on").startsWith("250");
        }
    }

    @Test
    void anMxPointingBackAtThisServerIsRefusedWith458NamingTheFix(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "loop.etrn.example", "z@loop.etrn.example", Messages.simple("etrn-loop", "z@loop.etrn.example"));
        PORTS.park(server, "nodns.etrn.example", "z@nodns.etrn.example", Messages.simple("etrn-nodns", "z@nodns.etrn.example"));
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN loop.etrn.example").get(0)).isEqualTo("458 4.3.0 Unable to queue messages for "
                + "node loop.etrn.example: the MX hosts of loop.etrn.example are this server; set <etrnRelay> for it in conf/atrn.xml");
            assertThat(client.command("ETRN nodns.etrn.example").get(0))
                .startsWith("458 4.3.0 Unable to queue messages for node nodns.etrn.example: the MX hosts of nodns.etrn.example cannot be looked up now");
        }
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        assertThat(probe.count("loop.etrn.example") + probe.count("nodns.etrn.example")).as("still parked").isEqualTo(2);
    }

    @Test
    void aHostThatRefusesTheSessionIsSkippedForTheNextOne(GuiceJamesServer server) throws Exception {
        // relay.etrn.example resolves to 127.0.0.2 first, where a server greets with 421
        try (ServerSocket busy = new ServerSocket(SINK.port(), 10, InetAddress.getByName("127.0.0.2"))) {
            Thread greeter = new Thread(() -> {
                while (!busy.isClosed()) {
                    try (Socket socket = busy.accept()) {
                        socket.getOutputStream().write("421 4.3.2 too busy, try the next MX\r\n".getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "busy-mx");
            greeter.setDaemon(true);
            greeter.start();
            PORTS.park(server, "second.etrn.example", "f@second.etrn.example", Messages.simple("etrn-second", "f@second.etrn.example"));
            String before = JamesMetrics.scrape(server);
            try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
                client.command("EHLO somewhere.test");
                assertThat(client.command("ETRN second.etrn.example").get(0)).startsWith("253 2.0.0 OK, 1 pending messages");
            }
            await().atMost(30, SECONDS).until(() -> receivedWithSubject("etrn-second").size() == 1);
            await().atMost(10, SECONDS).untilAsserted(() -> {
                String after = JamesMetrics.scrape(server);
                assertThat(JamesMetrics.delta(before, after, "atrn_etrn_requests_253_total")).isEqualTo(1.0);
                assertThat(JamesMetrics.delta(before, after, "atrn_messages_delivered_total")).isEqualTo(1.0);
            });
        }
    }

    @Test
    void aHostOfferingStartTlsGetsTheMailInsideTls(GuiceJamesServer server) throws Exception {
        byte[] tricky = Messages.tricky("g@tls.etrn.example");
        PORTS.park(server, "tls.etrn.example", "g@tls.etrn.example", tricky);
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN tls.etrn.example").get(0)).startsWith("253 2.0.0 OK, 1 pending messages");
        }
        await().atMost(30, SECONDS).until(() -> TLS_SINK.customer.received.size() == 1);
        assertThat(TLS_SINK.tlsSessions()).isEqualTo(1);
        assertThat(TLS_SINK.customer.commands.get(0)).as("EHLO again after STARTTLS (RFC 3207)").startsWith("EHLO ");
        assertThat(Messages.body(TLS_SINK.customer.received.get(0).data())).isEqualTo(Messages.body(tricky));
        await().atMost(10, SECONDS).until(() -> server.getProbe(ParkedProbe.class).count("tls.etrn.example") == 0);
    }

    @Test
    void anUnreachableHostLeavesTheMailParked(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "dead.etrn.example", "e@dead.etrn.example", Messages.simple("etrn-dead", "e@dead.etrn.example"));
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN dead.etrn.example").get(0)).startsWith("253 2.0.0 OK, 1 pending messages");
            // Once the failed delivery gave the claim back, a new ETRN is taken on again: the mail is still there.
            await().atMost(30, SECONDS).until(() -> client.command("ETRN dead.etrn.example").get(0).startsWith("253 "));
        }
        assertThat(server.getProbe(ParkedProbe.class).count("dead.etrn.example")).isEqualTo(1);
    }

    @Test
    void etrnAndAtrnNeverDrainOneDomainAtOnce(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "a.etrn.example", "dan@a.etrn.example", Messages.simple("etrn-vs-atrn", "dan@a.etrn.example"));
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<CustomerServer> atrn = PORTS.holdReversed("customer", "customer-secret", "a.etrn.example", release);
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN a.etrn.example").get(0)).isEqualTo("458 4.3.0 Unable to queue messages for "
                + "node a.etrn.example: a.etrn.example is being delivered by another ODMR session");
        } finally {
            release.countDown();
        }
        assertThat(atrn.get().received).hasSize(1);
        assertThat(receivedWithSubject("etrn-vs-atrn")).as("not also sent by ETRN").isEmpty();
    }

    @Test
    void commandsPipelinedBehindEtrnAreAnsweredInOrder(GuiceJamesServer server) throws Exception {
        // Before the replies were written on the connection's event loop (LoopHandback), NOOP's
        // 250 could overtake ETRN's reply, depending on which thread got there first: repeated.
        // A NOOP that James reads only after the ETRN reply is run as usual (250), else it is
        // held back and answered 503; either way after the ETRN reply.
        for (int attempt = 0; attempt < 20; attempt++) {
            try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
                client.command("EHLO somewhere.test");
                client.sendRaw("ETRN customer2.example\r\nNOOP\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(client.readReply().get(0)).as("attempt %d", attempt).startsWith("251 ");
                assertThat(client.readReply().get(0)).matches("250 .*|503 5\\.5\\.1 NOOP was pipelined behind ETRN.*");
                assertThat(client.readReply().get(0)).startsWith("221 ");
                assertThat(client.closedByPeer()).isTrue();
            }
        }
    }
}
