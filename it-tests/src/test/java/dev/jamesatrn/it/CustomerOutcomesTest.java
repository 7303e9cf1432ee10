package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.jamesatrn.customer.PollOutcome.Result;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.CustomerConf;
import dev.jamesatrn.testing.james.JamesMetrics;
import dev.jamesatrn.testing.james.JamesWebAdmin;
import dev.jamesatrn.testing.james.LogCapture;
import dev.jamesatrn.testing.smtp.ScriptedProvider;

/**
 * Issue 15's outcome table, end to end in one James: each provider of {@code atrn-customer.xml}
 * stands for one row of README "James as the ODMR customer" (453, 451, 450, a wrong secret, no
 * ATRN in EHLO, an untrusted certificate). A poll started in WebAdmin runs the real session, and
 * each gives its result, reply and error in WebAdmin, exactly one log line, one count on its
 * {@code atrn_customer_polls_<result>} counter, and its {@code failedPollsInARow}. Interval and
 * back-off are an hour, so after the first (scheduled) polls only the test's POSTs poll.
 */
class CustomerOutcomesTest {
    private static final String LOGIN = "customer";
    private static final String SECRET = "customer-outcomes-secret";
    private static final String PROVIDERS = "/atrn/customer/providers";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final ScriptedProvider EMPTY = provider(() -> ScriptedProvider.answering(LOGIN, SECRET));
    private static final ScriptedProvider BUSY = atrnAnswered("451 4.3.0 customer.example is being delivered, try later");
    private static final ScriptedProvider NOT_ALLOWED = atrnAnswered("450 4.7.0 Login may not claim customer.example");
    // The provider knows another secret than ours: its CRAM-MD5 check gives 535.
    private static final ScriptedProvider OTHER_SECRET = provider(() -> ScriptedProvider.answering(LOGIN, "the-providers-own-secret"));
    private static final ScriptedProvider NO_ATRN = provider(() -> new ScriptedProvider(c -> {
        c.greetAndEhlo("AUTH CRAM-MD5");
        c.line();
    }));
    // Started before James: the first polls run as soon as James has started.
    private static final LogCapture LOG = LogCapture.started("dev.jamesatrn.customer");
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(CustomerOutcomesTest::customerRole);

    private interface Start {
        ScriptedProvider start() throws IOException;
    }

    private static ScriptedProvider provider(Start start) {
        try {
            return start.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Any CRAM-MD5 answer passes; ATRN gets {@code reply}; then the customer's QUIT is read. */
    private static ScriptedProvider atrnAnswered(String reply) {
        return provider(() -> new ScriptedProvider(c -> {
            c.upToAtrn(reply);
            c.line();
        }));
    }

    private static void customerRole(Path workingDirectory) {
        try {
            CustomerConf.writeProviders(workingDirectory.resolve("conf"), String.join("\n",
                CustomerConf.onDemandPlaintextProvider("empty", EMPTY.port(), LOGIN, SECRET),
                CustomerConf.onDemandPlaintextProvider("busy", BUSY.port(), LOGIN, SECRET),
                CustomerConf.onDemandPlaintextProvider("notallowed", NOT_ALLOWED.port(), LOGIN, SECRET),
                CustomerConf.onDemandPlaintextProvider("othersecret", OTHER_SECRET.port(), LOGIN, SECRET),
                CustomerConf.onDemandPlaintextProvider("noatrn", NO_ATRN.port(), LOGIN, SECRET),
                // this James's own ODMR TLS port: no CA of the JVM signed its keystore (JamesLayout.makeKeystore)
                CustomerConf.onDemandProvider("untrusted", PORTS.odmrTlsPort, "<tls>implicit</tls>", LOGIN, SECRET)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopProviders() throws IOException {
        LOG.stop();
        for (ScriptedProvider provider : List.of(EMPTY, BUSY, NOT_ALLOWED, OTHER_SECRET, NO_ATRN)) {
            provider.close();
        }
    }

    @Test
    void nothingParkedIsNothingWaitingAndHealthy(GuiceJamesServer server) throws Exception {
        JsonNode poll = pollOnDemand(server, "empty", Result.NOTHING_WAITING, 0);

        assertThat(poll.get("reply").asText()).isEqualTo(ScriptedProvider.NOTHING_WAITING);
        assertThat(poll.get("error").isNull()).as(poll.toString()).isTrue();
        assertThat(logLine("empty")).contains(" reply=\"" + ScriptedProvider.NOTHING_WAITING + "\" ").contains(" error=- ");
        assertThat(EMPTY.received()).contains("ATRN customer.example", "QUIT");
    }

    @Test
    void aBusyDomainIsTryLaterAndHealthy(GuiceJamesServer server) throws Exception {
        JsonNode poll = pollOnDemand(server, "busy", Result.TRY_LATER, 0);

        assertThat(poll.get("reply").asText()).isEqualTo("451 4.3.0 customer.example is being delivered, try later");
        assertThat(poll.get("error").asText()).contains("cannot serve ATRN customer.example now").contains("the next poll tries again");
        assertThat(logLine("busy")).contains(" reply=\"451 4.3.0 ").contains("the next poll tries again");
        assertThat(BUSY.failures).isEmpty();
    }

    @Test
    void aLoginThatMayNotClaimTheDomainIsRefused(GuiceJamesServer server) throws Exception {
        JsonNode poll = pollOnDemand(server, "notallowed", Result.REFUSED, 2);

        assertThat(poll.get("reply").asText()).isEqualTo("450 4.7.0 Login may not claim customer.example");
        assertThat(poll.get("error").asText()).contains("refused ATRN customer.example for login " + LOGIN)
            .contains("RFC 2645 5.2.1: the login may not claim every domain listed");
        assertThat(logLine("notallowed")).contains(" reply=\"450 4.7.0 ");
        assertThat(NOT_ALLOWED.failures).isEmpty();
    }

    @Test
    void aWrongSecretIsRefusedAndNeverShown(GuiceJamesServer server) throws Exception {
        JsonNode poll = pollOnDemand(server, "othersecret", Result.REFUSED, 2);

        assertThat(poll.get("reply").asText()).startsWith("535 5.7.8");
        assertThat(poll.get("error").asText()).contains("refused AUTH CRAM-MD5 for login " + LOGIN)
            .contains("Check login and secret of provider othersecret");
        assertThat(logLine("othersecret")).contains(" reply=\"535 5.7.8 ");
        // never past AUTH
        assertThat(OTHER_SECRET.atrnCount()).isZero();
    }

    @Test
    void aProviderThatDoesNotAdvertiseAtrnIsRefused(GuiceJamesServer server) throws Exception {
        JsonNode poll = pollOnDemand(server, "noatrn", Result.REFUSED, 2);

        assertThat(poll.get("reply").asText()).startsWith("250");
        assertThat(poll.get("error").asText()).contains("does not advertise ATRN after EHLO");
        assertThat(logLine("noatrn")).contains("does not advertise ATRN");
        // neither AUTH nor ATRN was sent: EHLO, then QUIT, on each of the two polls
        assertThat(NO_ATRN.received()).noneMatch(line -> line.startsWith("AUTH") || line.startsWith("ATRN"))
            .filteredOn("QUIT"::equals).hasSize(2);
        assertThat(NO_ATRN.failures).isEmpty();
    }

    @Test
    void anUntrustedCertificateFails(GuiceJamesServer server) throws Exception {
        JsonNode poll = pollOnDemand(server, "untrusted", Result.FAILED, 2);

        assertThat(poll.get("reply").isNull()).as(poll.toString()).isTrue();
        assertThat(poll.get("error").asText()).contains("certificate is not trusted").contains("the JVM's default trust store");
        assertThat(logLine("untrusted")).contains("certificate is not trusted");
    }

    /**
     * Waits for every first (scheduled) poll to end, so that the counters move for this poll
     * only; starts one on demand and checks what every outcome has: the result in WebAdmin, one
     * log line, one count on the result's counter and none on the others, the provider's
     * {@code failedPollsInARow} (healthy: 0; unhealthy: 2, the scheduled poll and this one) in
     * WebAdmin and as a gauge, and the secret nowhere. Returns WebAdmin's lastPoll.
     */
    private static JsonNode pollOnDemand(GuiceJamesServer server, String name, Result expected, int failedInARow) throws Exception {
        await().atMost(60, SECONDS).until(() -> providers(server),
            all -> all.size() == 6 && all.stream().allMatch(p -> p.path("lastPoll").isObject() && !p.get("pollingNow").asBoolean()));
        assertThat(pollLines(name)).singleElement().asString().contains(" trigger=schedule result=" + expected + " ");
        String before = JamesMetrics.scrape(server);

        HttpResponse<String> started = JamesWebAdmin.send(server, "POST", PROVIDERS + "/" + name + "/polls");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        JsonNode provider = await().atMost(60, SECONDS).until(() -> provider(server, name),
            p -> p.path("lastPoll").path("trigger").asText().equals("webadmin") && !p.get("pollingNow").asBoolean());
        JsonNode poll = provider.get("lastPoll");
        assertThat(poll.get("result").asText()).as(poll.toString()).isEqualTo(expected.name());
        assertThat(poll.get("messages").asInt()).isZero();
        assertThat(provider.get("failedPollsInARow").asInt()).isEqualTo(failedInARow);
        assertThat(provider.toString()).doesNotContain(SECRET);

        await().atMost(30, SECONDS).until(() -> pollLines(name).size() == 2);
        assertThat(logLine(name)).contains(" result=" + expected + " ").contains(" messages=0 bytes=0 ")
            .contains(" next=");
        assertThat(LOG.lines()).noneMatch(line -> line.contains(SECRET));

        String counter = counter(expected);
        String after = await().atMost(30, SECONDS).until(() -> JamesMetrics.scrape(server),
            metrics -> JamesMetrics.delta(before, metrics, counter) >= 1);
        for (Result result : Result.values()) {
            assertThat(JamesMetrics.delta(before, after, counter(result))).as(counter(result))
                .isEqualTo(result == expected ? 1.0 : 0.0);
        }
        assertThat(JamesMetrics.value(after, "atrn_customer_failed_polls_in_a_row_" + name)).contains((double) failedInARow);
        assertThat(after).doesNotContain(SECRET);
        return poll;
    }

    private static String counter(Result result) {
        return "atrn_customer_polls_" + result.name().toLowerCase() + "_total";
    }

    private static List<String> pollLines(String name) {
        return LOG.lines().stream().filter(line -> line.startsWith("ATRN customer poll: provider=" + name + " "))
            .collect(Collectors.toList());
    }

    /** The one line of the poll started in WebAdmin. */
    private static String logLine(String name) {
        List<String> onDemand = pollLines(name).stream().filter(line -> line.contains(" trigger=webadmin "))
            .collect(Collectors.toList());
        assertThat(onDemand).hasSize(1);
        return onDemand.get(0);
    }

    private static List<JsonNode> providers(GuiceJamesServer server) throws Exception {
        HttpResponse<String> response = JamesWebAdmin.send(server, "GET", PROVIDERS);
        assertThat(response.statusCode()).isEqualTo(200);
        List<JsonNode> all = new ArrayList<>();
        JSON.readTree(response.body()).forEach(all::add);
        return all;
    }

    private static JsonNode provider(GuiceJamesServer server, String name) throws Exception {
        HttpResponse<String> response = JamesWebAdmin.send(server, "GET", PROVIDERS + "/" + name);
        assertThat(response.statusCode()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
