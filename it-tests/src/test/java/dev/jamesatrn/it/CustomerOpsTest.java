package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.CustomerConf;
import dev.jamesatrn.testing.james.JamesMetrics;
import dev.jamesatrn.testing.james.JamesWebAdmin;
import dev.jamesatrn.testing.james.LogCapture;
import dev.jamesatrn.testing.smtp.ScriptedProvider;


/**
 * The ODMR customer role wired into a real James (config-samples/ plus an
 * {@code atrn-customer.xml} naming a scripted provider on a real socket): the first poll runs
 * once James has started, WebAdmin lists the provider and starts a poll on demand, each poll
 * gives one log line and its metrics, and James's shutdown stops the polls. Which session runs
 * is whatever {@code Poller} the build binds; the session's own test below needs the real one.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CustomerOpsTest {
    private static final String LOGIN = "customer";
    private static final String SECRET = "customer-ops-secret";
    private static final String PROVIDERS = "/atrn/customer/providers";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ScriptedProvider PROVIDER = provider();
    // Started before James: the first poll runs as soon as James has started.
    private static final LogCapture LOG = LogCapture.started("dev.jamesatrn.customer");
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(CustomerOpsTest::customerRole);

    private static ScriptedProvider provider() {
        try {
            return ScriptedProvider.answering(LOGIN, SECRET);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The customer role on, against the scripted provider; and its routes in WebAdmin. Back-off as long as the interval: no second scheduled poll during the test. */
    private static void customerRole(Path workingDirectory) {
        try {
            CustomerConf.writeProviders(workingDirectory.resolve("conf"),
                CustomerConf.onDemandPlaintextProvider("upstream", PROVIDER.port(), LOGIN, SECRET));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopProvider() throws IOException {
        LOG.stop();
        PROVIDER.close();
    }

    private static List<String> pollLines(String trigger) {
        return LOG.lines().stream().filter(line -> line.startsWith("ATRN customer poll: provider=upstream trigger=" + trigger + " "))
            .collect(Collectors.toList());
    }

    private static JsonNode upstream(GuiceJamesServer server) throws Exception {
        HttpResponse<String> response = JamesWebAdmin.send(server, "GET", PROVIDERS);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode providers = JSON.readTree(response.body());
        assertThat(providers).hasSize(1);
        return providers.get(0);
    }

    /** The provider once its first (scheduled) poll has ended. */
    private static JsonNode afterFirstPoll(GuiceJamesServer server) {
        return await().atMost(60, SECONDS).until(() -> upstream(server),
            p -> p.path("lastPoll").path("trigger").asText().equals("schedule") && !p.get("pollingNow").asBoolean());
    }

    /** The provider once a poll has ended and none runs. */
    private static JsonNode settled(GuiceJamesServer server) {
        return await().atMost(60, SECONDS).until(() -> upstream(server),
            p -> p.path("lastPoll").isObject() && !p.get("pollingNow").asBoolean());
    }

    @Test
    @Order(1)
    void theFirstPollRunsOnScheduleAndAPollOnDemandShowsInWebAdminTheLogAndTheMetrics(GuiceJamesServer server) throws Exception {
        JsonNode first = afterFirstPoll(server);
        assertThat(first.get("name").asText()).isEqualTo("upstream");
        assertThat(first.get("host").asText()).isEqualTo("127.0.0.1");
        assertThat(first.get("port").asInt()).isEqualTo(PROVIDER.port());
        assertThat(first.get("tls").asText()).isEqualTo("none");
        assertThat(first.get("verifyCertificate").asBoolean(false)).isTrue();
        assertThat(first.get("mechanism").asText()).isEqualTo("CRAM-MD5");
        assertThat(first.get("login").asText()).isEqualTo(LOGIN);
        assertThat(first.get("domains").toString()).isEqualTo("[\"customer.example\"]");
        assertThat(first.get("pollIntervalSeconds").asLong()).isEqualTo(3600);
        Instant firstStarted = Instant.parse(first.get("lastPoll").get("startedAt").asText());
        assertThat(Instant.parse(first.get("nextPollAt").asText())).isAfter(firstStarted.plus(Duration.ofMinutes(59)));
        assertThat(first.toString()).doesNotContain(SECRET).doesNotContainIgnoringCase("secret");
        String result = first.get("lastPoll").get("result").asText();
        assertThat(pollLines("schedule")).singleElement().asString().contains("result=" + result + " ");

        String before = JamesMetrics.scrape(server);
        HttpResponse<String> started = JamesWebAdmin.send(server, "POST", PROVIDERS + "/upstream/polls");
        assertThat(started.statusCode()).isEqualTo(202);
        assertThat(JSON.readTree(started.body()).get("status").asText()).isEqualTo(PROVIDERS + "/upstream");

        JsonNode second = await().atMost(60, SECONDS).until(() -> upstream(server),
            p -> p.path("lastPoll").path("trigger").asText().equals("webadmin") && !p.get("pollingNow").asBoolean());
        assertThat(second.get("lastPoll").get("result").asText()).isEqualTo(result);
        await().atMost(30, SECONDS).until(() -> pollLines("webadmin").size() == 1);
        assertThat(pollLines("webadmin").get(0)).contains("result=" + result + " ").contains(" messages=")
            .contains(" bytes=").contains(" duration=").contains(" error=").contains(" next=");
        assertThat(LOG.lines()).noneMatch(line -> line.contains(SECRET));

        String after = JamesMetrics.scrape(server);
        assertThat(JamesMetrics.delta(before, after, "atrn_customer_polls_" + result.toLowerCase() + "_total")).isEqualTo(1.0);
        assertThat(JamesMetrics.delta(before, after, "atrn_customer_poll_duration_count")).isEqualTo(1.0);
        assertThat(JamesMetrics.value(after, "atrn_customer_failed_polls_in_a_row_upstream")).isPresent();
        assertThat(after).doesNotContain(SECRET);

        HttpResponse<String> unknown = JamesWebAdmin.send(server, "POST", PROVIDERS + "/nobody/polls");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("No provider 'nobody' in conf/atrn-customer.xml");
        assertThat(JamesWebAdmin.send(server, "GET", PROVIDERS + "/UPSTREAM").statusCode()).isEqualTo(200);
    }

    /**
     * The real customer session against a scripted provider: it sees EHLO, a correct CRAM-MD5 and
     * {@code ATRN customer.example}, answers 453, and a second poll on demand while one waits
     * for its ATRN reply gets 409.
     */
    @Test
    @Order(2)
    void aPollIsAnAtrnSessionWithTheProvider(GuiceJamesServer server) throws Exception {
        JsonNode first = settled(server);

        assertThat(first.get("lastPoll").get("result").asText()).isEqualTo("NOTHING_WAITING");
        assertThat(first.get("lastPoll").get("reply").asText()).isEqualTo(ScriptedProvider.NOTHING_WAITING);
        assertThat(PROVIDER.received()).anyMatch(line -> line.startsWith("EHLO "))
            .contains("AUTH CRAM-MD5", "ATRN customer.example");

        int atrnSoFar = PROVIDER.atrnCount();
        PROVIDER.holdAtrnReplies();
        try {
            assertThat(JamesWebAdmin.send(server, "POST", PROVIDERS + "/upstream/polls").statusCode()).isEqualTo(202);
            await().atMost(60, SECONDS).until(() -> PROVIDER.atrnCount() > atrnSoFar);
            assertThat(upstream(server).get("pollingNow").asBoolean()).isTrue();
            HttpResponse<String> busy = JamesWebAdmin.send(server, "POST", PROVIDERS + "/upstream/polls");
            assertThat(busy.statusCode()).isEqualTo(409);
            assertThat(busy.body()).contains("A poll of provider 'upstream' is running now");
        } finally {
            PROVIDER.releaseAtrnReplies();
        }
        await().atMost(60, SECONDS).until(() -> !upstream(server).get("pollingNow").asBoolean());
    }

    /** Last: James's own shutdown reaches the scheduler through the extension's child injector (@PreDestroy). */
    @Test
    @Order(3)
    void jamesShutdownStopsThePolls(GuiceJamesServer server) {
        settled(server);
        server.stop();
        assertThat(LOG.lines()).contains("ODMR customer: polls stopped");
    }
}
