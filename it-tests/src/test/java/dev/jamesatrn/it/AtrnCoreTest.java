package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.mailbox.model.MultimailboxesSearchQuery;
import org.apache.james.mailbox.model.SearchQuery;
import org.apache.james.modules.MailboxProbeImpl;
import org.apache.james.utils.DataProbeImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * RFC 2645 behaviour of the extension against a real James, driven by a scripted customer over
 * real sockets. Mail is injected on the ordinary SMTP port as an anonymous peer would.
 */
class AtrnCoreTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension();

    private ParkedProbe probe(GuiceJamesServer server) {
        return server.getProbe(ParkedProbe.class);
    }

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        probe(server).clear("customer.example", "customer2.example", "other.example");
    }

    private void park(GuiceJamesServer server, String domain, String rcpt, byte[] message) throws Exception {
        PORTS.park(server, domain, rcpt, message);
    }

    private OdmrClient authenticated(String login, String secret) throws Exception {
        return PORTS.authenticated(login, secret);
    }

    // ---- inbound: the "atrn" address class ----

    @Test
    void mailForAnAtrnDomainIsAcceptedWithoutAuthAndParked(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("held", "alice@customer.example"));

        assertThat(probe(server).all("customer.example"))
            .singleElement()
            .satisfies(parked -> assertThat(parked.recipients()).containsExactly("alice@customer.example"));
    }

    @Test
    void unknownRecipientOfADomainWithARecipientListGets550(GuiceJamesServer server) throws Exception {
        List<String> replies = Inbound.send(PORTS.inboundPort, "sender@sender.test",
            List.of("mallory@other.example", "alice@other.example"), Messages.simple("listed", "alice@other.example"));

        assertThat(replies.get(0)).startsWith("550 5.1.1");
        assertThat(replies.get(1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count("other.example") == 1);
        assertThat(probe(server).all("other.example").get(0).recipients()).containsExactly("alice@other.example");
    }

    @Test
    void otherRemoteDomainsStillNeedAuthToRelay() throws Exception {
        List<String> replies = Inbound.send(PORTS.inboundPort, "sender@sender.test",
            List.of("someone@elsewhere.test"), Messages.simple("relay", "someone@elsewhere.test"));

        assertThat(replies.get(0)).startsWith("550 5.7.1");
    }

    @Test
    void aMessageForSeveralAtrnDomainsIsSplitPerDomain(GuiceJamesServer server) throws Exception {
        List<String> replies = Inbound.send(PORTS.inboundPort, "sender@sender.test",
            List.of("alice@customer.example", "bob@customer.example", "carol@customer2.example", "alice@other.example"),
            Messages.simple("split", "many"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");

        await().atMost(30, SECONDS).until(() -> probe(server).count("customer.example") == 1
            && probe(server).count("customer2.example") == 1 && probe(server).count("other.example") == 1);
        assertThat(probe(server).all("customer.example").get(0).recipients())
            .containsExactly("alice@customer.example", "bob@customer.example");
        assertThat(probe(server).all("customer2.example").get(0).recipients()).containsExactly("carol@customer2.example");
        assertThat(probe(server).all("other.example").get(0).recipients()).containsExactly("alice@other.example");
    }

    // ---- the ODMR port ----

    @Test
    void ehloListsCramMd5FirstAtrnAndEtrn() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            assertThat(client.greeting.get(0)).startsWith("220");
            List<String> ehlo = client.command("EHLO customer.example");
            assertThat(ehlo).anyMatch(line -> line.substring(4).equals("AUTH CRAM-MD5"));
            assertThat(ehlo).anyMatch(line -> line.substring(4).equals("ATRN"));
            assertThat(ehlo).anyMatch(line -> line.substring(4).equals("STARTTLS"));
            assertThat(ehlo.subList(1, ehlo.size())).extracting(line -> line.substring(4))
                .containsExactlyInAnyOrder("AUTH CRAM-MD5", "STARTTLS", "ATRN", "ETRN");
        }
    }

    @Test
    void mailTransactionVerbsGet502() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.command("MAIL FROM:<a@b.example>").get(0)).startsWith("502 5.5.1");
            assertThat(client.command("RCPT TO:<a@b.example>").get(0)).startsWith("502 5.5.1");
            assertThat(client.command("DATA").get(0)).startsWith("502 5.5.1");
            assertThat(client.command("VRFY alice").get(0)).startsWith("502 5.5.1");
            assertThat(client.command("NOOP").get(0)).startsWith("250");
            assertThat(client.command("QUIT").get(0)).startsWith("221");
        }
    }

    @Test
    void wrongSecretGets535() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.authCramMd5("customer", "wrong").get(0)).startsWith("535 5.7.8");
            assertThat(client.authCramMd5("nobody", "customer-secret").get(0)).startsWith("535 5.7.8");
        }
    }

    @Test
    void plainIsRefusedBeforeStartTls() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            List<String> ehlo = client.command("EHLO customer.example");
            assertThat(ehlo).noneMatch(line -> line.contains("PLAIN"));
            assertThat(client.authPlain("customer", "customer-secret").get(0)).startsWith("538 5.7.11");
        }
    }

    @Test
    void atrnBeforeAuthGets530() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("530");
        }
    }

    @Test
    void malformedDomainGets501() throws Exception {
        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example,,customer2.example").get(0)).startsWith("501");
            assertThat(client.command("ATRN -bad-.example").get(0)).startsWith("501");
            assertThat(client.command("ATRN [127.0.0.1]").get(0)).startsWith("501");
            // the session goes on after a syntax error
            assertThat(client.command("NOOP").get(0)).startsWith("250");
        }
    }

    @Test
    void aDomainTheLoginMayNotClaimGets450AndNothingIsSent(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("kept", "alice@customer.example"));

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example,other.example").get(0)).startsWith("450");
            assertThat(client.command("ATRN other.example").get(0)).startsWith("450");
        }
        assertThat(probe(server).count("customer.example")).isEqualTo(1);
    }

    @Test
    void noParkedMailGets453() throws Exception {
        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).isEqualTo("453 You have no mail");
        }
    }

    // ---- the reversed session ----

    @Test
    void bareAtrnDeliversEveryDomainOfTheLoginInOneSessionByteExact(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.tricky("alice@customer.example"));
        park(server, "customer2.example", "carol@customer2.example", Messages.simple("second", "carol@customer2.example"));
        park(server, "other.example", "alice@other.example", Messages.simple("not-yours", "alice@other.example"));
        List<ParkedProbe.Parked> parked = new ArrayList<>(probe(server).all("customer.example"));
        parked.addAll(probe(server).all("customer2.example"));

        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN").get(0)).isEqualTo("250 OK now reversing the connection");
            client.serve(customer);
            assertThat(client.closedByPeer()).isTrue();
        }

        assertThat(customer.received).hasSize(2);
        for (ParkedProbe.Parked original : parked) {
            assertThat(customer.received).anySatisfy(received -> {
                assertThat(received.data()).isEqualTo(original.bytes());
                assertThat(received.rcptTo()).containsExactlyElementsOf(
                    original.recipients().stream().map(r -> "<" + r + ">").toList());
            });
        }
        assertThat(Messages.body(customer.received.stream()
            .filter(r -> r.rcptTo().contains("<alice@customer.example>")).findFirst().orElseThrow().data()))
            .isEqualTo(Messages.body(Messages.tricky("alice@customer.example")));
        assertThat(customer.commands).anyMatch(c -> c.startsWith("MAIL FROM:<sender@sender.test> SIZE=") && c.endsWith(" BODY=8BITMIME"));
        assertThat(customer.commands.get(customer.commands.size() - 1)).isEqualTo("QUIT");
        await().atMost(10, SECONDS).until(() -> probe(server).count("customer.example") == 0
            && probe(server).count("customer2.example") == 0);
        assertThat(probe(server).count("other.example")).isEqualTo(1);
    }

    @Test
    void explicitMultiDomainAtrnDeliversOnlyTheListedDomains(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("one", "alice@customer.example"));
        park(server, "customer2.example", "carol@customer2.example", Messages.simple("two", "carol@customer2.example"));

        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN Customer2.Example.").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).singleElement()
            .satisfies(r -> assertThat(r.rcptTo()).containsExactly("<carol@customer2.example>"));
        await().atMost(10, SECONDS).until(() -> probe(server).count("customer2.example") == 0);
        assertThat(probe(server).count("customer.example")).isEqualTo(1);
    }

    @Test
    void a4xxToEndOfDataLeavesTheMessageParked(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("deferred", "alice@customer.example"));
        CustomerServer customer = new CustomerServer((step, index, reply) ->
            Optional.of(step.equals("END") ? "451 4.3.0 try later" : reply));

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.commands).contains("QUIT");
        assertThat(probe(server).count("customer.example")).isEqualTo(1);
    }

    @Test
    void a5xxBouncesToTheSenderAndRemovesTheMessage(GuiceJamesServer server) throws Exception {
        // The sender lives in another ATRN domain so its DSN is parked where the test can read it.
        List<String> replies = Inbound.send(PORTS.inboundPort, "postmaster@customer2.example",
            List.of("alice@customer.example"), Messages.simple("refused", "alice@customer.example"));
        assertThat(replies.get(0)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer.example") == 1);
        CustomerServer customer = new CustomerServer((step, index, reply) ->
            Optional.of(step.equals("END") ? "554 5.6.0 content rejected" : reply));

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        await().atMost(10, SECONDS).until(() -> probe(server).count("customer.example") == 0);
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer2.example") == 1);
        ParkedProbe.Parked dsn = probe(server).all("customer2.example").get(0);
        assertThat(dsn.recipients()).containsExactly("postmaster@customer2.example");
        assertThat(new String(dsn.bytes(), StandardCharsets.ISO_8859_1))
            .contains("message/delivery-status")
            .contains("alice@customer.example");
    }

    @Test
    void aDisconnectMidDataLeavesTheMessageParkedAndReleasesTheDomain(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("cut", "alice@customer.example"));
        CustomerServer cutting = new CustomerServer((step, index, reply) ->
            step.equals("DATA-STREAM") ? Optional.empty() : Optional.of(reply));

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(cutting);
        }
        assertThat(probe(server).count("customer.example")).isEqualTo(1);

        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        await().atMost(10, SECONDS).untilAsserted(() -> {
            try (OdmrClient client = authenticated("customer", "customer-secret")) {
                assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
                client.serve(customer);
            }
        });
        assertThat(customer.received).hasSize(1);
        await().atMost(10, SECONDS).until(() -> probe(server).count("customer.example") == 0);
    }

    @Test
    void aSecondAtrnForADomainBeingDrainedGets451(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("busy", "alice@customer.example"));
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<CustomerServer> first = PORTS.holdReversed("customer", "customer-secret", "customer.example", release);

        try (OdmrClient second = authenticated("customer", "customer-secret")) {
            assertThat(second.command("ATRN customer.example,customer2.example").get(0))
                .startsWith("451 4.3.0 customer.example is being delivered by another ODMR session");
        } finally {
            release.countDown();
        }

        assertThat(first.get().received).hasSize(1);
    }

    @Test
    void startTlsThenAuthThenAtrnKeepsTheReversedSessionEncrypted(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.tricky("alice@customer.example"));
        byte[] parked = probe(server).all("customer.example").get(0).bytes();
        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);

        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(OdmrClient.code(client.startTls())).isEqualTo("220");
            List<String> ehlo = client.command("EHLO customer.example");
            assertThat(ehlo).anyMatch(line -> line.substring(4).equals("AUTH CRAM-MD5 PLAIN LOGIN"));
            assertThat(client.authPlain("customer", "customer-secret").get(0)).startsWith("235");
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            // every byte below travels inside the TLS session negotiated before AUTH
            assertThat(client.isEncrypted()).isTrue();
            client.serve(customer);
        }

        assertThat(customer.received).singleElement().satisfies(r -> assertThat(r.data()).isEqualTo(parked));
        await().atMost(10, SECONDS).until(() -> probe(server).count("customer.example") == 0);
    }

    @Test
    void perRecipientOutcomes5xxBouncesOneRecipientAnd4xxKeepsAnother(GuiceJamesServer server) throws Exception {
        List<String> replies = Inbound.send(PORTS.inboundPort, "postmaster@customer2.example",
            List.of("alice@customer.example", "bob@customer.example", "carol@customer.example"),
            Messages.simple("per-rcpt", "team@customer.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer.example") == 1);
        CustomerServer customer = new CustomerServer((step, index, reply) -> {
            if (step.equals("RCPT <bob@customer.example>")) {
                return Optional.of("550 5.1.1 no such user");
            }
            if (step.equals("RCPT <carol@customer.example>")) {
                return Optional.of("452 4.2.2 mailbox full");
            }
            return Optional.of(reply);
        });

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).singleElement()
            .satisfies(r -> assertThat(r.rcptTo()).containsExactly("<alice@customer.example>"));
        // carol is still owed, and only carol
        assertThat(probe(server).all("customer.example")).singleElement()
            .satisfies(parked -> assertThat(parked.recipients()).containsExactly("carol@customer.example"));
        // bob was bounced to the sender
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer2.example") == 1);
        String dsn = new String(probe(server).all("customer2.example").get(0).bytes(), StandardCharsets.ISO_8859_1);
        assertThat(dsn).contains("bob@customer.example").doesNotContain("Final-Recipient: rfc822; alice@customer.example")
            .contains("Action: failed").contains("Status: 5.1.1");
    }

    @Test
    void aCustomerThatRefusesEhloIsGreetedWithHelo(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("helo", "alice@customer.example"));
        CustomerServer oldFashioned = new CustomerServer((step, index, reply) ->
            Optional.of(step.equals("EHLO") ? "502 5.5.1 EHLO not implemented" : reply));

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(oldFashioned);
        }

        assertThat(oldFashioned.commands).anyMatch(c -> c.startsWith("HELO "));
        // no ESMTP parameters towards a HELO-only server
        assertThat(oldFashioned.commands).contains("MAIL FROM:<sender@sender.test>");
        assertThat(oldFashioned.received).hasSize(1);
    }

    @Test
    void authExchangesCanBeCancelledOrGarbledWithoutEndingTheSession() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.command("AUTH").get(0)).startsWith("501");
            assertThat(client.command("AUTH DIGEST-MD5").get(0)).startsWith("504");
            assertThat(client.command("AUTH CRAM-MD5").get(0)).startsWith("334 ");
            assertThat(client.command("*").get(0)).startsWith("501 5.0.0");
            assertThat(client.command("AUTH CRAM-MD5").get(0)).startsWith("334 ");
            assertThat(client.command("%%% not base64 %%%").get(0)).startsWith("501 5.5.2");
            assertThat(OdmrClient.code(client.authCramMd5("customer", "customer-secret"))).isEqualTo("235");
            assertThat(client.command("AUTH CRAM-MD5").get(0)).startsWith("503");
        }
    }

    @Test
    void loginMechanismWorksOnceTlsIsUp() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.command("AUTH LOGIN").get(0)).startsWith("538");
            client.startTls();
            client.command("EHLO customer.example");
            assertThat(client.command("AUTH LOGIN").get(0)).isEqualTo("334 VXNlcm5hbWU6");
            assertThat(client.command(b64("customer")).get(0)).isEqualTo("334 UGFzc3dvcmQ6");
            assertThat(client.command(b64("customer-secret")).get(0)).startsWith("235");
            assertThat(client.command("ATRN customer.example").get(0)).isEqualTo("453 You have no mail");
        }
    }

    private static String b64(String text) {
        return java.util.Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void mailParkedWhileTheSessionRunsIsDeliveredInThatSession(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("first", "alice@customer.example"));
        CustomerServer customer = new CustomerServer((step, index, reply) -> {
            if (step.equals("END") && index == 0) {
                try {
                    park(server, "customer.example", "bob@customer.example", Messages.simple("late", "bob@customer.example"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            return Optional.of(reply);
        });

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).extracting(r -> r.rcptTo().get(0))
            .containsExactly("<alice@customer.example>", "<bob@customer.example>");
        await().atMost(10, SECONDS).until(() -> probe(server).count("customer.example") == 0);
    }

    @Test
    void localRecipientsOfASplitMessageAreDeliveredAsUsual(GuiceJamesServer server) throws Exception {
        DataProbeImpl data = server.getProbe(DataProbeImpl.class);
        if (!data.containsDomain("provider.test")) {
            data.addDomain("provider.test");
            data.addUser("local@provider.test", "secret");
        }
        List<String> replies = Inbound.send(PORTS.inboundPort, "sender@sender.test",
            List.of("alice@customer.example", "local@provider.test"), Messages.simple("mixed", "mixed"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");

        MailboxProbeImpl mailboxes = server.getProbe(MailboxProbeImpl.class);
        await().atMost(30, SECONDS).until(() -> mailboxes.searchMessage(
            MultimailboxesSearchQuery.from(SearchQuery.of()).build(), "local@provider.test", 10).size() == 1);
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer.example") == 1);
        assertThat(probe(server).all("customer.example").get(0).recipients()).containsExactly("alice@customer.example");
    }

    @Test
    void sessionsForDifferentDomainsDrainInParallel(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("para-1", "alice@customer.example"));
        park(server, "other.example", "alice@other.example", Messages.simple("para-2", "alice@other.example"));
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<CustomerServer> first = PORTS.holdReversed("customer", "customer-secret", "customer.example", release);

        CustomerServer second = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = authenticated("other", "other-secret")) {
            assertThat(client.command("ATRN other.example").get(0)).startsWith("250");
            client.serve(second);
        } finally {
            release.countDown();
        }

        assertThat(second.received).hasSize(1);
        assertThat(first.get().received).hasSize(1);
    }

    @Test
    void aCustomerWhoseRepliesGetOutOfStepLosesNothing(GuiceJamesServer server) throws Exception {
        List<String> replies = Inbound.send(PORTS.inboundPort, "postmaster@customer2.example",
            List.of("alice@customer.example"), Messages.simple("desync", "alice@customer.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer.example") == 1);
        // a doubled banner: one reply more than the provider asked for
        CustomerServer confused = new CustomerServer((step, index, reply) ->
            Optional.of(step.equals("greeting") ? "220 customer.example ready\r\n250 stray" : reply));

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            try {
                client.serve(confused);
            } catch (java.io.IOException e) {
                // the provider hangs up on a customer it cannot follow
            }
        }

        assertThat(confused.received).isEmpty();
        assertThat(probe(server).all("customer.example")).singleElement()
            .satisfies(parked -> assertThat(parked.recipients()).containsExactly("alice@customer.example"));
        // and no bounce was sent for it
        assertThat(probe(server).count("customer2.example")).isZero();
    }

    @Test
    void authRepliesFollowRfc4954ForInitialResponses() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            client.command("EHLO customer.example");
            assertThat(client.command("AUTH CRAM-MD5 Zm9v").get(0)).startsWith("501");
            client.startTls();
            client.command("EHLO customer.example");
            assertThat(client.command("AUTH PLAIN =").get(0)).startsWith("535");
            assertThat(client.command("AUTH PLAIN QUIT!!").get(0)).startsWith("501 5.5.2");
        }
    }

    @Test
    void withoutPipeliningEachCommandWaitsForItsReplyAndRefusedRecipientsSkipData(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("lockstep", "alice@customer.example"));
        CustomerServer lockstep = new CustomerServer((step, index, reply) -> {
            if (step.equals("EHLO")) {
                return Optional.of("250-customer.example\r\n250 8BITMIME");
            }
            return Optional.of(step.startsWith("RCPT") ? "550 5.1.1 unknown" : reply);
        });

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(lockstep);
        }

        // no recipient accepted: no DATA, an RSET closes the transaction
        assertThat(lockstep.commands).containsSubsequence("MAIL FROM:<sender@sender.test> BODY=8BITMIME",
            "RCPT TO:<alice@customer.example>", "RSET", "QUIT");
        assertThat(lockstep.commands).doesNotContain("DATA");
        assertThat(probe(server).count("customer.example")).isZero();
    }

    @Test
    void withPipeliningARefusedMailFromStillConsumesEveryReply(GuiceJamesServer server) throws Exception {
        park(server, "customer.example", "alice@customer.example", Messages.simple("pipelined-1", "alice@customer.example"));
        park(server, "customer.example", "bob@customer.example", Messages.simple("pipelined-2", "bob@customer.example"));
        java.util.concurrent.atomic.AtomicBoolean refused = new java.util.concurrent.atomic.AtomicBoolean();
        CustomerServer picky = new CustomerServer((step, index, reply) ->
            Optional.of(step.equals("MAIL") && refused.compareAndSet(false, true) ? "451 4.3.0 busy, later" : reply));

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(picky);
        }

        // the first transaction was refused at MAIL (its RCPT and DATA answered 503 by the customer);
        // the replies stayed in step, so the second message went through and the first stays parked
        assertThat(picky.received).hasSize(1);
        assertThat(probe(server).count("customer.example")).isEqualTo(1);
    }
}
