package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.List;
import java.util.Optional;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.smtpserver.OdmrAuthCmdHandler;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesMetrics;
import dev.jamesatrn.testing.james.LogCapture;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * What an operator sees: given mail parked and drained by ATRN, James's WebAdmin {@code /metrics}
 * shows our counters, gauges and timer, and the log has one line per ODMR session.
 */
class MetricsAndSessionLogTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final LogCapture SESSION_LOG = new LogCapture("dev.jamesatrn.OdmrSession");
    private static final LogCapture EXTENSION_LOG = new LogCapture(OdmrAuthCmdHandler.class.getPackageName());

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension();

    @BeforeAll
    static void captureSessionLog() {
        SESSION_LOG.start();
        EXTENSION_LOG.start();
    }

    @AfterAll
    static void stopCapturing() {
        SESSION_LOG.stop();
        EXTENSION_LOG.stop();
    }

    private static List<String> sessionLines() {
        return SESSION_LOG.lines();
    }

    private static List<String> extensionLines() {
        return EXTENSION_LOG.lines();
    }

    @Test
    void parkingAndAnAtrnDrainShowInMetricsAndInOneSessionLogLine(GuiceJamesServer server) throws Exception {
        String start = JamesMetrics.scrape(server);
        PORTS.park(server, "customer.example", "alice@customer.example", Messages.simple("metric-1", "alice@customer.example"));
        PORTS.park(server, "customer.example", "bob@customer.example", Messages.simple("metric-2", "bob@customer.example"));
        String before = JamesMetrics.scrape(server);
        assertThat(JamesMetrics.value(before, "atrn_parked_messages_customer_example")).contains(2.0);
        assertThat(JamesMetrics.delta(start, before, "atrn_messages_parked_total")).isEqualTo(2.0);

        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }
        assertThat(customer.received).hasSize(2);
        long bytes = customer.received.stream().mapToLong(CustomerServer.Received::length).sum();

        await().atMost(10, SECONDS).untilAsserted(() -> {
            String after = JamesMetrics.scrape(server);
            assertThat(JamesMetrics.value(after, "atrn_parked_messages_customer_example")).contains(0.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_messages_delivered_total")).isEqualTo(2.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_requests_250_total")).isEqualTo(1.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_drain_duration_count")).isEqualTo(1.0);
        });
        await().atMost(10, SECONDS).until(() -> sessionLines().stream().anyMatch(line -> line.contains("domains=customer.example")));
        String line = sessionLines().stream().filter(l -> l.contains("domains=customer.example")).findFirst().orElseThrow();
        assertThat(line).startsWith("ODMR session remote=127.0.0.1 login=customer tls=false atrn=1 domains=customer.example "
            + "reply=250 delivered=2 deferred=0 bounced=0 bytes=").contains("duration=").doesNotContain("secret");
        assertThat(Long.parseLong(line.replaceAll(".* bytes=(\\d+) .*", "$1"))).as("dot-stuffed bytes on the wire").isGreaterThanOrEqualTo(bytes);
    }

    @Test
    void deferredAndBouncedMessagesAreCountedAsTheyHappen(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "customer2.example", "dan@customer2.example", Messages.simple("metric-later", "dan@customer2.example"));
        PORTS.park(server, "customer2.example", "eve@customer2.example", Messages.simple("metric-never", "eve@customer2.example"));
        String before = JamesMetrics.scrape(server);
        // the first message of the session is deferred (4xx), the second refused for good (5xx)
        CustomerServer customer = new CustomerServer((step, index, reply) -> Optional.of(!step.equals("END") ? reply
            : index == 0 ? "451 4.3.0 try again later" : "550 5.1.1 no such mailbox"));
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer2.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        await().atMost(10, SECONDS).untilAsserted(() -> {
            String after = JamesMetrics.scrape(server);
            assertThat(JamesMetrics.delta(before, after, "atrn_messages_deferred_total")).isEqualTo(1.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_messages_bounced_total")).isEqualTo(1.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_messages_delivered_total")).isEqualTo(0.0);
            assertThat(JamesMetrics.value(after, "atrn_parked_messages_customer2_example")).contains(1.0);
        });
        server.getProbe(ParkedProbe.class).clear("customer2.example");
    }


    @Test
    void refusedRequestsAreCountedByReplyCodeAndLoggedToo(GuiceJamesServer server) throws Exception {
        String before = JamesMetrics.scrape(server);
        try (OdmrClient anonymous = new OdmrClient(PORTS.odmrPort)) {
            anonymous.command("EHLO customer.example");
            assertThat(anonymous.command("ATRN customer2.example").get(0)).startsWith("530");
        }
        try (OdmrClient client = PORTS.authenticated("other", "other-secret")) {
            assertThat(client.command("ATRN other.example").get(0)).startsWith("453");
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("450");
        }
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort)) {
            client.command("EHLO somewhere.test");
            assertThat(client.command("ETRN nowhere.example").get(0)).startsWith("459");
        }
        await().atMost(10, SECONDS).untilAsserted(() -> {
            String after = JamesMetrics.scrape(server);
            assertThat(JamesMetrics.delta(before, after, "atrn_requests_530_total")).isEqualTo(1.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_requests_453_total")).isEqualTo(1.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_requests_450_total")).isEqualTo(1.0);
            assertThat(JamesMetrics.delta(before, after, "atrn_etrn_requests_459_total")).isEqualTo(1.0);
        });
        await().atMost(10, SECONDS).until(() -> sessionLines().stream().anyMatch(line -> line.contains("login=other")));
        assertThat(sessionLines()).anyMatch(line -> line.matches(
            "ODMR session remote=127\\.0\\.0\\.1 login=other tls=false atrn=2 domains=customer\\.example reply=450 duration=\\d+ms"));
        assertThat(sessionLines()).anyMatch(line -> line.matches(
            "ODMR session remote=127\\.0\\.0\\.1 login=- tls=false atrn=1 domains=customer2\\.example reply=530 duration=\\d+ms"));
    }

    /**
     * A CRAM-MD5 login is whatever the client put before the first space of its response (the
     * JDK's reading of RFC 2195), CR, LF, tabs and escape sequences included: logged raw, it would
     * start a second log line of the client's choosing.
     */
    @Test
    void aLoginHoldingCrLfAndControlCharactersIsLoggedOnOneEscapedLine() throws Exception {
        String forged = "nobody\r\n2026-01-01\t00:00:00,000\tINFO\tforged:\tlogin\tcustomer\tauthenticated\u001b[2K";
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.authCramMd5(forged, "not the secret").get(0)).startsWith("535");
        }

        await().atMost(10, SECONDS).until(() -> extensionLines().stream().anyMatch(line -> line.contains("forged")));
        assertThat(extensionLines().stream().filter(line -> line.contains("forged")))
            .singleElement()
            .satisfies(line -> assertThat(line)
                .doesNotContain("\r").doesNotContain("\n").doesNotContain("\t").doesNotContain("\u001b")
                .contains("nobody\\r\\n2026-01-01\\t00:00:00,000\\tINFO\\tforged:")
                .contains("authenticated\\x1b[2K"));
    }
}
