package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesMetrics;
import dev.jamesatrn.testing.james.LogCapture;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * Lifetime, delay warnings, slowed-down AUTH failures, the ATRN repeat interval (shortened in
 * conf/atrn.xml), and the AUTH failure limits across connections at their defaults. Clients that
 * play attackers come from other loopback addresses (127.0.0.2 and up), so the limits they run
 * into never reach the other tests, which connect from 127.0.0.1.
 */
class PolicyTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final Duration AUTH_DELAY = Duration.ofSeconds(2);
    // the documented defaults of authFailuresPerAddress and authFailuresPerLogin (within authFailureWindow, 10m)
    private static final int FAILURES_PER_ADDRESS = 20;
    private static final int FAILURES_PER_LOGIN = 10;
    private static final LogCapture EXTENSION_LOG = new LogCapture("dev.jamesatrn.extension");

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(AtrnJames.atrnXmlWith(
        "<maxParkedLifetime>4s</maxParkedLifetime><delayWarningAfter>1s</delayWarningAfter>"
            + "<expiryCheckInterval>1s</expiryCheckInterval><authFailureDelay>2s</authFailureDelay>"
            + "<minAtrnInterval>1h</minAtrnInterval>").andThen(PolicyTest::moreLogins).andThen(PolicyTest::noConnectionLimit));

    /**
     * The sample's connectionLimitPerIP on the ODMR port would let only 10 of the 200 parallel
     * guesses below reach AUTH (HostileInputTest checks that limit): lifted, so that it is the
     * AUTH limit that faces them all at once.
     */
    private static void noConnectionLimit(Path workingDirectory) {
        Path smtp = workingDirectory.resolve("conf/smtpserver.xml");
        String odmrLimit = "(?s)(<jmxName>odmrserver</jmxName>.*?)<connectionLimitPerIP>\\d+</connectionLimitPerIP>";
        try {
            String xml = Files.readString(smtp);
            assertThat(xml).containsPattern(odmrLimit);
            Files.writeString(smtp, xml.replaceFirst(odmrLimit, "$1<connectionLimitPerIP>0</connectionLimitPerIP>"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "victim" is the login under attack; "Customer3" is spelled in mixed case in atrn.xml. */
    private static void moreLogins(Path workingDirectory) {
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<logins>", "<login name=\"victim\" secret=\"victim-secret\"/>"
            + "<login name=\"Customer3\" secret=\"customer3-secret\"/>");
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<domains>", "<domain name=\"victim.example\"><login>victim</login></domain>"
            + "<domain name=\"customer3.example\"><login>Customer3</login></domain>");
    }

    @BeforeAll
    static void captureExtensionLog() {
        EXTENSION_LOG.start();
    }

    @AfterAll
    static void stopCapturing() {
        EXTENSION_LOG.stop();
    }

    private static List<String> extensionLog() {
        return EXTENSION_LOG.lines();
    }

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

    @Test
    void aLoginSpelledInMixedCaseClaimsItsDomainsWhateverCaseTheClientUses() throws Exception {
        for (String spelling : List.of("Customer3", "customer3", "CUSTOMER3")) {
            try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
                client.command("EHLO customer3.example");
                assertThat(OdmrClient.code(client.authCramMd5(spelling, "customer3-secret"))).as(spelling).isEqualTo("235");
                // authorised: 453 (nothing parked; a 453 does not count for minAtrnInterval), never
                // 450 4.7.1 "may not claim"
                assertThat(client.command("ATRN customer3.example").get(0)).as(spelling).isEqualTo("453 You have no mail");
            }
        }
    }

    /**
     * 200 connections from one address guess at once, each with its own login (a spray, so the
     * per-login limit stays out of it): exactly authFailuresPerAddress guesses are checked, every
     * other one gets 421. Once over, the address gets 421 even with a right secret, one WARN line
     * says so, and other clients are served as usual.
     */
    @Test
    void twoHundredParallelBadAuthsFromOneAddressAreThrottled() throws Exception {
        String attacker = "127.0.0.2";
        ExecutorService pool = Executors.newFixedThreadPool(200);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> attempts = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                String login = "spray-" + i;
                attempts.add(pool.submit(() -> {
                    go.await();
                    return guess(attacker, login, "a wrong guess");
                }));
            }
            go.countDown();
            List<String> outcomes = new ArrayList<>();
            for (Future<String> attempt : attempts) {
                outcomes.add(attempt.get());
            }
            Map<String, Long> byCode = outcomes.stream().collect(Collectors.groupingBy(o -> o.substring(0, 3), Collectors.counting()));

            assertThat(byCode.getOrDefault("535", 0L)).as("guesses checked, of %s", byCode).isEqualTo(FAILURES_PER_ADDRESS);
            assertThat(outcomes).as("every other attempt")
                .allMatch(o -> o.startsWith("535 5.7.8") || o.startsWith("421 4.7.0 Too many failed authentications from this address"));
            assertThat(guess(attacker, "customer", "customer-secret")).as("the right secret, from that address")
                .startsWith("421 4.7.0");
            assertThat(extensionLog().stream().filter(line -> line.contains("AUTH refused") && line.contains(attacker)))
                .as("logged once").hasSize(1);
            try (OdmrClient other = new OdmrClient(PORTS.odmrPort)) {
                other.command("EHLO customer.example");
                assertThat(OdmrClient.code(other.authCramMd5("other", "other-secret"))).isEqualTo("235");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A distributed attack on one login, one guess per address: past authFailuresPerLogin the
     * login gets 454 from everywhere, even with its right secret; other logins are unaffected.
     */
    @Test
    void guessesAtOneLoginFromManyAddressesGet454PastTheLimit() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(FAILURES_PER_LOGIN + 3);
        List<String> outcomes = new ArrayList<>();
        try {
            List<Future<String>> guesses = new ArrayList<>();
            for (int i = 0; i < FAILURES_PER_LOGIN + 3; i++) {
                String from = "127.0.1." + (i + 1);
                String secret = "guess-" + i;
                guesses.add(pool.submit(() -> guess(from, "victim", secret)));
            }
            for (Future<String> guess : guesses) {
                outcomes.add(guess.get());
            }
        } finally {
            pool.shutdownNow();
        }
        Map<String, Long> byReply = outcomes.stream()
            .collect(Collectors.groupingBy(o -> o.replaceAll("\\d+ s$", "N s"), Collectors.counting()));
        assertThat(byReply).containsOnly(
            Map.entry("535 5.7.8 Authentication credentials invalid", (long) FAILURES_PER_LOGIN),
            Map.entry("454 4.7.0 Too many failed authentications for this login; try again in N s", 3L));
        // the spelling does not matter: one login, one counter
        assertThat(guess("127.0.1.100", "VICTIM", "victim-secret")).startsWith("454 4.7.0");
        assertThat(guess("127.0.1.100", "other", "other-secret")).startsWith("235");
        assertThat(extensionLog().stream().filter(line -> line.contains("AUTH refused") && line.contains("victim")))
            .as("logged once").hasSize(1);
    }

    /** One connection from {@code from}: EHLO, AUTH CRAM-MD5; the first line of the reply, or how the connection ended. */
    private static String guess(String from, String login, String secret) throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort, InetAddress.getByName(from))) {
            client.command("EHLO attacker.test");
            return client.authCramMd5(login, secret).get(0);
        }
    }
}
