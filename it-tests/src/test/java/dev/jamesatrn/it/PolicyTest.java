package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Lifetime, delay warnings, slowed-down AUTH failures and the ATRN repeat interval, shortened in conf/atrn.xml. */
class PolicyTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final Duration AUTH_DELAY = Duration.ofSeconds(2);

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(AtrnJames.atrnXmlWith(
        "<maxParkedLifetime>4s</maxParkedLifetime><delayWarningAfter>1s</delayWarningAfter>"
            + "<expiryCheckInterval>1s</expiryCheckInterval><authFailureDelay>2s</authFailureDelay>"
            + "<minAtrnInterval>1h</minAtrnInterval>"));

    @Test
    void anAtrnRepeatedWithinTheIntervalOfOneThatReversedGets450(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "other.example", "alice@other.example", Messages.simple("interval", "alice@other.example"));
        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = PORTS.authenticated("other", "other-secret")) {
            assertThat(client.command("ATRN other.example").get(0)).startsWith("250");
            client.serve(customer);
        }
        assertThat(customer.received).hasSize(1);

        try (OdmrClient client = PORTS.authenticated("other", "other-secret")) {
            assertThat(client.command("ATRN other.example").get(0)).startsWith("450 4.7.0 ATRN repeated too soon");
        }
    }

    /** Only a session that really reversed counts: a customer told "no mail" may ask again at once. */
    @Test
    void anAtrnAnswered453DoesNotCountForTheInterval() throws Exception {
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).isEqualTo("453 You have no mail");
            assertThat(client.command("ATRN customer.example").get(0)).isEqualTo("453 You have no mail");
        }
    }

    @Test
    void aFailedAuthIsAnsweredLateWithoutHoldingUpOtherSessions() throws Exception {
        long start = System.nanoTime();
        CompletableFuture<List<String>> failing = CompletableFuture.supplyAsync(() -> {
            try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
                client.command("EHLO customer.example");
                return client.authCramMd5("customer", "a wrong guess");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        try (OdmrClient other = new OdmrClient(PORTS.odmrPort)) {
            assertThat(other.command("NOOP").get(0)).startsWith("250");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("another session is served meanwhile").isLessThan(AUTH_DELAY);

        assertThat(failing.get().get(0)).startsWith("535 5.7.8");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(AUTH_DELAY);
    }

    @Test
    void uncollectedMailIsWarnedAboutThenBouncedAndBouncesThemselvesNeverBounce(GuiceJamesServer server) throws Exception {
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        String metricsBefore = JamesMetrics.scrape(server);
        // The sender is in another ATRN domain, so the DSNs are parked where the test can read them.
        List<String> replies = Inbound.send(PORTS.inboundPort, "postmaster@customer2.example",
            List.of("alice@customer.example"), Messages.simple("uncollected", "alice@customer.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");

        Set<String> actionsSeen = ConcurrentHashMap.newKeySet();
        await().atMost(30, SECONDS).pollInterval(Duration.ofMillis(200)).until(() -> {
            for (ParkedProbe.Parked dsn : probe.all("customer2.example")) {
                String text = new String(dsn.bytes(), StandardCharsets.ISO_8859_1);
                if (text.contains("Action: delayed")) {
                    actionsSeen.add("delayed");
                }
                if (text.contains("Action: failed")) {
                    actionsSeen.add("failed");
                }
                if (text.contains("Status: 4.4.7")) {
                    actionsSeen.add("status");
                }
            }
            return actionsSeen.containsAll(Set.of("delayed", "failed")) && probe.count("customer.example") == 0;
        });

        assertThat(actionsSeen).as("RFC 3463 status of an expired message").contains("status");
        // The DSNs have a null sender: they expire in turn, silently, and nothing new appears.
        await().atMost(30, SECONDS).until(() -> probe.count("customer2.example") == 0);
        assertThat(probe.count("customer.example")).isZero();
        assertThat(probe.count("other.example")).isZero();
        // the message itself, then each of its DSNs (delay warning and failure), expired
        assertThat(JamesMetrics.delta(metricsBefore, JamesMetrics.scrape(server), "atrn_messages_expired_total"))
            .isGreaterThanOrEqualTo(3.0);
    }

    @Test
    void theThirdFailedAuthClosesTheConnection() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.authCramMd5("customer", "guess-1").get(0)).startsWith("535");
            assertThat(client.authCramMd5("customer", "guess-2").get(0)).startsWith("535");
            assertThat(client.authCramMd5("customer", "guess-3").get(0)).startsWith("421 4.7.0");
            assertThat(client.closedByPeer()).isTrue();
        }
    }

    @Test
    void linesPipelinedBehindAFailedAuthAreNotAnsweredBeforeIt() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            client.startTls();
            client.command("EHLO customer.example");
            String guess = java.util.Base64.getEncoder().encodeToString("\0customer\0wrong".getBytes(StandardCharsets.UTF_8));
            client.sendRaw(("AUTH PLAIN " + guess + "\r\nAUTH PLAIN " + guess + "\r\nNOOP\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(client.readReply().get(0)).startsWith("535");
            assertThat(client.readReply().get(0)).startsWith("421 4.5.0");
            assertThat(client.closedByPeer()).isTrue();
        }
    }
}
