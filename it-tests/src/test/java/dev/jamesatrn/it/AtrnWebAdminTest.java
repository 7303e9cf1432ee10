package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.utils.WebAdminGuiceProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesMetrics;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;

/**
 * The WebAdmin routes for parked mail ({@code /atrn/domains}), over real HTTP against the in-JVM
 * James configured from config-samples/ (whose webadmin.properties registers the routes).
 */
class AtrnWebAdminTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final String CUSTOMER = "customer.example";
    // An ATRN domain as sender: its DSNs are parked there, where the test can read them.
    private static final String BOUNCE_TARGET = "customer2.example";

    // The expiry sweep claims every domain briefly once per interval: pushed out of the way, so a
    // 409 here can only come from the session a test holds on purpose.
    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(AtrnJames.atrnXmlWith("<expiryCheckInterval>1h</expiryCheckInterval>"));

    private static ParkedProbe probe(GuiceJamesServer server) {
        return server.getProbe(ParkedProbe.class);
    }

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        probe(server).clear(CUSTOMER, BOUNCE_TARGET, "other.example");
    }

    @Test
    void domainListingReportsCountBytesOldestAgeAndLogins(GuiceJamesServer server) throws Exception {
        Instant before = Instant.now().minusMillis(1);
        PORTS.park(server, CUSTOMER, "alice@customer.example", Messages.simple("first", "alice@customer.example"));
        PORTS.park(server, CUSTOMER, "bob@customer.example", Messages.tricky("bob@customer.example"));
        long parkedBytes = probe(server).all(CUSTOMER).stream().mapToLong(p -> p.bytes().length).sum();

        HttpResponse<String> response = get(server, "/atrn/domains");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode domains = JSON.readTree(response.body());
        assertThat(domains.findValuesAsText("domain")).containsExactly(CUSTOMER, BOUNCE_TARGET, "other.example");
        JsonNode customer = domains.get(0);
        assertThat(customer.get("logins").toString()).isEqualTo("[\"customer\"]");
        assertThat(customer.get("parkedMessages").asLong()).isEqualTo(2);
        assertThat(customer.get("parkedBytes").asLong()).isEqualTo(parkedBytes);
        assertThat(customer.get("drainingNow").asBoolean()).isFalse();
        assertThat(customer.get("claimedFor").isNull()).isTrue();
        Instant oldest = Instant.parse(customer.get("oldestParkedAt").asText());
        JsonNode mails = JSON.readTree(get(server, "/atrn/domains/customer.example/mails").body());
        assertThat(oldest).isEqualTo(Instant.parse(mails.get(0).get("parkedAt").asText()))
            .isBefore(Instant.parse(mails.get(1).get("parkedAt").asText()).plusMillis(1))
            .isAfter(before);
        assertThat(customer.get("oldestAgeSeconds").asLong())
            .isBetween(0L, Duration.between(before, Instant.now()).toSeconds() + 1);
        JsonNode other = domains.get(2);
        assertThat(other.get("parkedMessages").asLong()).isZero();
        assertThat(other.get("parkedBytes").asLong()).isZero();
        assertThat(other.get("oldestParkedAt").isNull()).isTrue();
    }

    @Test
    void aDomainBeingDrainedShowsItsHolderAndRefusesChangesWith409(GuiceJamesServer server) throws Exception {
        PORTS.park(server, CUSTOMER, "alice@customer.example", Messages.simple("held", "alice@customer.example"));
        String key = onlyKey(server);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<CustomerServer> session = PORTS.holdReversed("customer", "customer-secret", CUSTOMER, release);
        try {
            JsonNode domain = JSON.readTree(get(server, "/atrn/domains/customer.example").body());
            assertThat(domain.get("drainingNow").asBoolean()).isTrue();
            assertThat(domain.get("claimedFor").asText()).isEqualTo("ATRN");
            assertThat(domain.get("claimedBy").asText()).contains("|ATRN|");

            for (HttpResponse<String> refused : List.of(
                    send(server, "DELETE", "/atrn/domains/customer.example/mails/" + key),
                    send(server, "DELETE", "/atrn/domains/customer.example/mails"),
                    send(server, "POST", "/atrn/domains/customer.example/mails?action=bounce"),
                    send(server, "POST", "/atrn/domains/customer.example/mails/" + key + "?action=bounce"))) {
                assertError(refused, 409, "WrongState", "customer.example is being delivered by another ODMR session");
            }
            assertThat(probe(server).count(CUSTOMER)).isEqualTo(1);
        } finally {
            release.countDown();
        }

        assertThat(session.get().received).hasSize(1);
        await().atMost(10, SECONDS).until(() ->
            !JSON.readTree(get(server, "/atrn/domains/customer.example").body()).get("drainingNow").asBoolean());
    }

    @Test
    void mailListingShowsKeySenderRecipientsSizeAndParkingTime(GuiceJamesServer server) throws Exception {
        Instant before = Instant.now().minusMillis(1);
        List<String> replies = Inbound.send(PORTS.inboundPort, "sender@sender.test",
            List.of("alice@customer.example", "bob@customer.example"), Messages.simple("two rcpts", "alice@customer.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count(CUSTOMER) == 1);
        ParkedProbe.Parked parked = probe(server).all(CUSTOMER).get(0);

        HttpResponse<String> response = get(server, "/atrn/domains/customer.example/mails");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode mail = JSON.readTree(response.body()).get(0);
        assertThat(mail.get("key").asText()).startsWith("atrn-");
        assertThat(mail.get("sender").asText()).isEqualTo("sender@sender.test");
        assertThat(mail.get("recipients").toString()).isEqualTo("[\"alice@customer.example\",\"bob@customer.example\"]");
        assertThat(mail.get("size").asLong()).isEqualTo(parked.bytes().length);
        assertThat(Instant.parse(mail.get("parkedAt").asText())).isBetween(before, Instant.now());
        assertThat(mail.get("delayWarningSent").asBoolean()).isFalse();
        assertThat(mail.has("subject")).as("details only for one message").isFalse();
    }

    @Test
    void oneMessageComesByteExactAsRfc822AndAsJsonDetailsOtherwise(GuiceJamesServer server) throws Exception {
        PORTS.park(server, CUSTOMER, "alice@customer.example", Messages.tricky("alice@customer.example"));
        byte[] parked = probe(server).all(CUSTOMER).get(0).bytes();
        String path = "/atrn/domains/customer.example/mails/" + onlyKey(server);

        HttpResponse<byte[]> raw = HTTP.send(request(server, path).header("Accept", "message/rfc822").GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("message/rfc822"));
        assertThat(raw.body()).isEqualTo(parked);

        HttpResponse<String> details = get(server, path);
        assertThat(details.statusCode()).isEqualTo(200);
        JsonNode mail = JSON.readTree(details.body());
        assertThat(mail.get("subject").asText()).isEqualTo("tricky");
        assertThat(mail.get("recipients").toString()).isEqualTo("[\"alice@customer.example\"]");
        assertThat(mail.get("size").asLong()).isEqualTo(parked.length);
    }

    @Test
    void deleteOneRemovesExactlyThatMessage(GuiceJamesServer server) throws Exception {
        PORTS.park(server, CUSTOMER, "alice@customer.example", Messages.simple("keep", "alice@customer.example"));
        PORTS.park(server, CUSTOMER, "alice@customer.example", Messages.simple("drop", "alice@customer.example"));
        String dropped = keyWithSubject(server, "drop");

        HttpResponse<String> response = send(server, "DELETE", "/atrn/domains/customer.example/mails/" + dropped);

        assertThat(response.statusCode()).isEqualTo(204);
        assertThat(probe(server).all(CUSTOMER)).extracting(p -> Messages.subject(p.bytes())).containsExactly("keep");
        assertError(send(server, "DELETE", "/atrn/domains/customer.example/mails/" + dropped), 404, "notFound",
            "No parked message " + dropped);
    }

    @Test
    void deleteAllEmptiesTheDomain(GuiceJamesServer server) throws Exception {
        PORTS.park(server, CUSTOMER, "alice@customer.example", Messages.simple("one", "alice@customer.example"));
        PORTS.park(server, CUSTOMER, "bob@customer.example", Messages.simple("two", "bob@customer.example"));

        HttpResponse<String> response = send(server, "DELETE", "/atrn/domains/customer.example/mails");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get("removed").asInt()).isEqualTo(2);
        assertThat(probe(server).count(CUSTOMER)).isZero();
    }

    @Test
    void bounceAllSendsADsnToEachSenderButNoneForANullSender(GuiceJamesServer server) throws Exception {
        parkFrom(server, "postmaster@customer2.example", "to be returned");
        parkFrom(server, "", "itself a bounce");
        String metricsBefore = JamesMetrics.scrape(server);

        HttpResponse<String> response = send(server, "POST", "/atrn/domains/customer.example/mails?action=bounce");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JamesMetrics.delta(metricsBefore, JamesMetrics.scrape(server), "atrn_messages_bounced_total")).isEqualTo(1.0);
        JsonNode count = JSON.readTree(response.body());
        assertThat(count.get("bounced").asInt()).isEqualTo(1);
        assertThat(count.get("removedWithoutBounce").asInt()).isEqualTo(1);
        assertThat(probe(server).count(CUSTOMER)).isZero();
        String dsn = awaitOneDsn(server);
        assertThat(dsn).contains("message/delivery-status").contains("Status: 5.0.0")
            .contains("alice@customer.example").contains("Subject: to be returned");
    }

    @Test
    void bounceOneReturnsOnlyThatMessage(GuiceJamesServer server) throws Exception {
        parkFrom(server, "postmaster@customer2.example", "returned");
        parkFrom(server, "postmaster@customer2.example", "staying");
        String returned = keyWithSubject(server, "returned");

        HttpResponse<String> response = send(server, "POST", "/atrn/domains/customer.example/mails/" + returned + "?action=bounce");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get("bounced").asInt()).isEqualTo(1);
        assertThat(probe(server).all(CUSTOMER)).extracting(p -> Messages.subject(p.bytes())).containsExactly("staying");
        assertThat(awaitOneDsn(server)).contains("Subject: returned").doesNotContain("Subject: staying");
    }

    @Test
    void domainNamesAreNormalizedAndBadInputIsAnsweredWithJsonErrors(GuiceJamesServer server) throws Exception {
        assertThat(JSON.readTree(get(server, "/atrn/domains/Customer.EXAMPLE.").body()).get("domain").asText())
            .isEqualTo(CUSTOMER);

        assertError(get(server, "/atrn/domains/nobody.example/mails"), 404, "notFound",
            "nobody.example is not an ATRN domain");
        assertError(get(server, "/atrn/domains/192.0.2.1/mails"), 400, "InvalidArgument", "'192.0.2.1' is not a domain name");
        assertError(send(server, "DELETE", "/atrn/domains/-bad-.example/mails"), 400, "InvalidArgument", "is not a domain name");
        assertError(get(server, "/atrn/domains/customer.example/mails/no~such~key"), 400, "InvalidArgument",
            "'no~such~key' is not a parked-mail key");
        assertError(get(server, "/atrn/domains/customer.example/mails/atrn-0000000000000--s1-none"), 404, "notFound",
            "No parked message atrn-0000000000000--s1-none");
        assertError(send(server, "POST", "/atrn/domains/customer.example/mails?action=reprocess"), 400, "InvalidArgument",
            "Unknown action 'reprocess'");
        assertError(send(server, "POST", "/atrn/domains/customer.example/mails"), 400, "InvalidArgument", "No action given");
    }

    private static void parkFrom(GuiceJamesServer server, String sender, String subject) throws Exception {
        long before = probe(server).count(CUSTOMER);
        List<String> replies = Inbound.send(PORTS.inboundPort, sender, List.of("alice@customer.example"),
            Messages.simple(subject, "alice@customer.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count(CUSTOMER) == before + 1);
    }

    private static String awaitOneDsn(GuiceJamesServer server) throws Exception {
        await().atMost(30, SECONDS).until(() -> probe(server).count(BOUNCE_TARGET) >= 1);
        List<ParkedProbe.Parked> dsns = probe(server).all(BOUNCE_TARGET);
        assertThat(dsns).hasSize(1);
        assertThat(dsns.get(0).recipients()).containsExactly("postmaster@customer2.example");
        return new String(dsns.get(0).bytes(), StandardCharsets.ISO_8859_1);
    }

    private static String onlyKey(GuiceJamesServer server) throws Exception {
        JsonNode mails = JSON.readTree(get(server, "/atrn/domains/customer.example/mails").body());
        assertThat(mails.size()).isEqualTo(1);
        return mails.get(0).get("key").asText();
    }

    private static String keyWithSubject(GuiceJamesServer server, String subject) throws Exception {
        List<String> matching = new ArrayList<>();
        for (JsonNode mail : JSON.readTree(get(server, "/atrn/domains/customer.example/mails").body())) {
            String key = mail.get("key").asText();
            if (JSON.readTree(get(server, "/atrn/domains/customer.example/mails/" + key).body()).get("subject").asText()
                    .equals(subject)) {
                matching.add(key);
            }
        }
        assertThat(matching).hasSize(1);
        return matching.get(0);
    }

    private static void assertError(HttpResponse<String> response, int status, String type, String messagePart)
            throws Exception {
        assertThat(response.statusCode()).isEqualTo(status);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.get("statusCode").asInt()).isEqualTo(status);
        assertThat(error.get("type").asText()).isEqualTo(type);
        assertThat(error.get("message").asText()).contains(messagePart).contains("Fix:");
    }

    private static HttpRequest.Builder request(GuiceJamesServer server, String path) {
        int port = server.getProbe(WebAdminGuiceProbe.class).getWebAdminPort().getValue();
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30));
    }

    private static HttpResponse<String> get(GuiceJamesServer server, String path) throws Exception {
        return send(server, "GET", path);
    }

    private static HttpResponse<String> send(GuiceJamesServer server, String method, String path) throws Exception {
        return HTTP.send(request(server, path).method(method, HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
