package dev.jamesatrn.it;

import static dev.jamesatrn.testing.james.CustomerJames.ALICE;
import static dev.jamesatrn.testing.james.CustomerJames.BOB;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.jamesatrn.customer.PollOutcome;
import dev.jamesatrn.customer.PollOutcome.Result;
import dev.jamesatrn.customer.Provider;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.CustomerJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesProcess;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;

/**
 * James on both ends over real sockets: the provider is James with the extension as its own
 * process, laid out from config-samples (two Jameses in one JVM would register the same
 * smtpserver MBeans); the customer is James in this JVM, whose ODMR customer the test calls
 * directly (the scheduler is not part of this). Mail parked at the provider for two domains
 * arrives once, byte-exact, in the customer's local mailboxes, over implicit TLS and STARTTLS.
 */
class CustomerPollTest {
    private static final String HOST = "127.0.0.1";
    private static final Duration STEP = Duration.ofSeconds(30);
    @RegisterExtension
    static final CustomerJames CUSTOMER = new CustomerJames(0);

    @TempDir
    static Path providerDirectory;

    private static JamesProcess provider;
    private static JamesProcess.Ports ports;
    private static Provider.Trust providerCertificate;

    @BeforeAll
    static void start() throws Exception {
        ports = new JamesProcess.Ports(AtrnJames.freePort(), AtrnJames.freePort(), AtrnJames.freePort());
        provider = JamesProcess.start(providerDirectory, HOST, ports, providerDirectory.resolve("provider.log"));
        providerCertificate = trustStoreWith(JamesLayout.exportCertificate(providerDirectory.resolve("conf/keystore"),
            providerDirectory.resolve("provider.pem")));
    }

    @AfterAll
    static void stop() {
        if (provider != null) {
            provider.close();
        }
    }

    private static Provider.Trust trustStoreWith(Path pem) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            store.setCertificateEntry("provider", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        Path file = providerDirectory.resolve("trust.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, "trust-secret".toCharArray());
        }
        return new Provider.Trust(Optional.of(file), Optional.of("trust-secret"), "PKCS12");
    }

    private static PollOutcome poll(int port, Provider.Tls tls, Provider.Trust trust, String secret, Provider.Mechanism mechanism,
                                    List<String> domains) throws Exception {
        return CUSTOMER.poll(CustomerJames.provider("provider-james", port, tls, trust,
            "customer", secret, mechanism, domains, STEP));
    }

    private static void park(String rcpt, byte[] message) throws Exception {
        String domain = rcpt.substring(rcpt.indexOf('@') + 1);
        long before = SeparateProcessTest.parkedCount(ports.webAdmin(), domain);
        List<String> replies = Inbound.send(ports.inbound(), "sender@sender.test", List.of(rcpt), message);
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> SeparateProcessTest.parkedCount(ports.webAdmin(), domain) == before + 1);
    }

    private static List<byte[]> inbox(String user) throws Exception {
        return CUSTOMER.inbox(user);
    }

    @Test
    void implicitTlsPullsBothDomainsOnceAndByteExact() throws Exception {
        pullsBothDomains(ports.odmrTls(), Provider.Tls.IMPLICIT, Provider.Mechanism.CRAM_MD5, "implicit");
    }

    @Test
    void startTlsPullsBothDomainsOnceAndByteExact() throws Exception {
        // PLAIN: the provider offers it only inside TLS, and so do we
        pullsBothDomains(ports.odmr(), Provider.Tls.STARTTLS, Provider.Mechanism.PLAIN, "starttls");
    }

    private void pullsBothDomains(int port, Provider.Tls tls, Provider.Mechanism mechanism, String tag) throws Exception {
        byte[] forAlice = Messages.tricky(ALICE);
        byte[] forBob = Messages.simple("for-bob-" + tag, BOB);
        park(ALICE, forAlice);
        park(BOB, forBob);
        int aliceBefore = inbox(ALICE).size();
        int bobBefore = inbox(BOB).size();

        PollOutcome outcome = poll(port, tls, providerCertificate, "customer-secret", mechanism,
            List.of("customer.example", "customer2.example"));

        assertThat(outcome.result()).as(outcome.toString()).isEqualTo(Result.RECEIVED);
        assertThat(outcome.reply()).hasValueSatisfying(reply -> assertThat(reply).startsWith("250"));
        assertThat(outcome.messages()).as(outcome.toString()).isEqualTo(2);
        assertThat(outcome.bytes()).isGreaterThan(forAlice.length + forBob.length);
        assertThat(SeparateProcessTest.parkedCount(ports.webAdmin(), "customer.example")).isZero();
        assertThat(SeparateProcessTest.parkedCount(ports.webAdmin(), "customer2.example")).isZero();
        await().atMost(30, SECONDS).until(() -> inbox(ALICE).size() == aliceBefore + 1 && inbox(BOB).size() == bobBefore + 1);
        byte[] atAlice = inbox(ALICE).get(aliceBefore);
        assertThat(Messages.body(atAlice)).isEqualTo(Messages.body(forAlice));
        String delivered = new String(atAlice, StandardCharsets.ISO_8859_1);
        // The provider's James already adds Date and Message-ID on receipt and may move headers;
        // every original header line is there, and our Received header comes first after the
        // delivery headers of the local mailbox.
        String sent = new String(forAlice, StandardCharsets.ISO_8859_1);
        for (String header : sent.substring(0, sent.indexOf("\r\n\r\n")).split("\r\n")) {
            assertThat(delivered).contains(header + "\r\n");
        }
        assertThat(delivered.substring(delivered.indexOf("Received: "))).startsWith("Received: from localhost")
            .contains("by " + CustomerJames.HELLO_NAME + " (JAMES SMTP Server ) with ESMTP (ODMR pull from provider-james)");
        assertThat(Messages.body(inbox(BOB).get(bobBefore))).isEqualTo(Messages.body(forBob));

        // exactly once: the next poll finds nothing, and nothing more arrives
        PollOutcome again = poll(port, tls, providerCertificate, "customer-secret", mechanism,
            List.of("customer.example", "customer2.example"));
        assertThat(again.result()).as(again.toString()).isEqualTo(Result.NOTHING_WAITING);
        assertThat(again.reply()).hasValueSatisfying(reply -> assertThat(reply).startsWith("453"));
        assertThat(inbox(ALICE)).hasSize(aliceBefore + 1);
        assertThat(inbox(BOB)).hasSize(bobBefore + 1);
    }

    @Test
    void aDomainTheLoginMayNotClaimGets450() throws Exception {
        PollOutcome outcome = poll(ports.odmr(), Provider.Tls.STARTTLS, providerCertificate, "customer-secret",
            Provider.Mechanism.CRAM_MD5, List.of("customer.example", "other.example"));

        assertThat(outcome.result()).as(outcome.toString()).isEqualTo(Result.REFUSED);
        assertThat(outcome.reply()).hasValueSatisfying(reply -> assertThat(reply).startsWith("450"));
        assertThat(outcome.result().healthy()).isFalse();
    }

    @Test
    void aWrongSecretGets535AndNeverShowsTheSecret() throws Exception {
        PollOutcome outcome = poll(ports.odmrTls(), Provider.Tls.IMPLICIT, providerCertificate, "not-the-secret",
            Provider.Mechanism.CRAM_MD5, List.of("customer.example"));

        assertThat(outcome.result()).as(outcome.toString()).isEqualTo(Result.REFUSED);
        assertThat(outcome.reply()).hasValueSatisfying(reply -> assertThat(reply).startsWith("535"));
        assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("login customer")
            .doesNotContain("not-the-secret"));
        assertThat(outcome.toString()).doesNotContain("not-the-secret");
    }

    @Test
    void anUntrustedCertificateFailsBeforeAnythingIsSent() throws Exception {
        PollOutcome outcome = poll(ports.odmrTls(), Provider.Tls.IMPLICIT, Provider.Trust.JVM_DEFAULT, "customer-secret",
            Provider.Mechanism.CRAM_MD5, List.of("customer.example"));

        assertThat(outcome.result()).as(outcome.toString()).isEqualTo(Result.FAILED);
        assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("certificate is not trusted")
            .contains("the JVM's default trust store"));
        assertThat(outcome.reply()).isEmpty();
    }

    @Test
    void aTrustedCertificateForAnotherNameFailsThePoll() throws Exception {
        // The provider's certificate is trusted but names localhost (keytool CN=localhost, no
        // subjectAltName): reached as 127.0.0.1, the RFC 6125 name check must refuse it, as it
        // would refuse a man in the middle holding a valid certificate of his own.
        Provider byAddress = new Provider("provider-james", HOST, ports.odmrTls(), Provider.Tls.IMPLICIT, true, providerCertificate,
            "customer", "customer-secret", Provider.Mechanism.PLAIN, List.of("customer.example"), Duration.ofMinutes(5),
            Duration.ofMinutes(1), Duration.ofHours(1), STEP, STEP.multipliedBy(2));

        PollOutcome outcome = CUSTOMER.poll(byAddress);

        assertThat(outcome.result()).as(outcome.toString()).isEqualTo(Result.FAILED);
        // the JDK's own words: trust passed, the name did not
        assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("subject alternative names")
            .contains("does not name " + HOST));
        assertThat(outcome.reply()).isEmpty();
    }

    @Test
    void aBusyDomainGets451AndTheNextPollCollects() throws Exception {
        long parked = SeparateProcessTest.parkedCount(ports.webAdmin(), "customer.example");
        park(ALICE, Messages.simple("busy", ALICE));
        CountDownLatch release = new CountDownLatch(1);
        // another session holds the domain, and leaves without taking anything
        CompletableFuture<CustomerServer> held = AtrnJames.holdReversed(ports.odmr(), "customer", "customer-secret",
            "customer.example", release, false);
        PollOutcome busy;
        try {
            busy = poll(ports.odmr(), Provider.Tls.STARTTLS, providerCertificate, "customer-secret", Provider.Mechanism.CRAM_MD5,
                List.of("customer.example"));
        } finally {
            release.countDown();
        }
        held.handle((customer, failure) -> customer).get();
        assertThat(busy.result()).as(busy.toString()).isEqualTo(Result.TRY_LATER);
        assertThat(busy.reply()).hasValueSatisfying(reply -> assertThat(reply).startsWith("451"));
        assertThat(busy.result().healthy()).isTrue();

        await().atMost(30, SECONDS).until(() -> SeparateProcessTest.parkedCount(ports.webAdmin(), "customer.example") == parked + 1);
        PollOutcome next = poll(ports.odmr(), Provider.Tls.STARTTLS, providerCertificate, "customer-secret",
            Provider.Mechanism.CRAM_MD5, List.of("customer.example"));
        assertThat(next.result()).as(next.toString()).isEqualTo(Result.RECEIVED);
        assertThat(next.messages()).isEqualTo(parked + 1);
    }
}
