package dev.jamesatrn.it;

import static dev.jamesatrn.testing.james.CustomerJames.ALICE;
import static dev.jamesatrn.testing.james.CustomerJames.BOB;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.customer.PollOutcome;
import dev.jamesatrn.customer.PollOutcome.Result;
import dev.jamesatrn.customer.Provider;

import dev.jamesatrn.testing.james.CustomerJames;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.ScriptedProvider;
import dev.jamesatrn.testing.smtp.SilentServer;
import dev.jamesatrn.testing.smtp.Wire;

/**
 * James as the ODMR customer against providers the test plays (RFC 2645 as written, and as a
 * hostile or broken provider would bend it): each ATRN reply gives its documented outcome, the
 * reversed session is James's SMTP server limited to the requested domains, and nothing partial
 * is enqueued.
 */
class CustomerScriptedProviderTest {
    /** James's idle timeout after the turn: short, to see a silent provider dropped. */
    private static final int IDLE_SECONDS = 3;
    @RegisterExtension
    static final CustomerJames CUSTOMER = new CustomerJames(IDLE_SECONDS);
    private static final Duration STEP = Duration.ofSeconds(10);

    private static PollOutcome poll(int port, List<String> domains, Duration timeout) throws Exception {
        return CUSTOMER.poll(CustomerJames.provider("scripted", port, Provider.Tls.NONE,
            Provider.Trust.JVM_DEFAULT, "customer", "customer-secret", Provider.Mechanism.CRAM_MD5, domains, timeout));
    }

    private static List<byte[]> inbox(String user) throws Exception {
        return CUSTOMER.inbox(user);
    }

    @Test
    void eachAtrnReplyGivesItsOutcome() throws Exception {
        Map<String, Result> cases = Map.of(
            "453 You have no mail", Result.NOTHING_WAITING,
            "451 Domain busy, try later", Result.TRY_LATER,
            "450 Not authorised for customer.example", Result.REFUSED,
            "530 Authentication required", Result.REFUSED,
            "502 Command not implemented", Result.REFUSED,
            "554 No", Result.REFUSED);
        for (Map.Entry<String, Result> atrnCase : cases.entrySet()) {
            List<String> afterReply = new CopyOnWriteArrayList<>();
            try (ScriptedProvider provider = new ScriptedProvider(c -> {
                c.upToAtrn(atrnCase.getKey());
                afterReply.add(c.line());
            })) {
                PollOutcome outcome = poll(provider.port(), List.of("customer.example", "customer2.example"), STEP);

                assertThat(outcome.result()).as(atrnCase.getKey()).isEqualTo(atrnCase.getValue());
                assertThat(outcome.reply()).contains(atrnCase.getKey());
                assertThat(outcome.messages()).isZero();
                assertThat(outcome.error().orElse("")).doesNotContain("customer-secret");
                await().atMost(10, SECONDS).until(() -> afterReply.size() == 1);
                assertThat(afterReply).containsExactly("QUIT");
                assertThat(provider.failures).isEmpty();
            }
        }
    }

    @Test
    @Timeout(60) // a poll must end even when its pipeline cannot be built
    void aTrustStoreThatCannotBeReadFailsThePollWithoutConnecting() throws Exception {
        try (SilentServer silent = new SilentServer()) {
            Provider.Trust missing = new Provider.Trust(Optional.of(Path.of("/nonexistent/trust.p12")), Optional.empty(), "PKCS12");
            PollOutcome outcome = CUSTOMER.poll(CustomerJames.provider("scripted",
                silent.port(), Provider.Tls.IMPLICIT, missing, "customer", "customer-secret", Provider.Mechanism.CRAM_MD5,
                List.of("customer.example"), STEP));

            assertThat(outcome.result()).isEqualTo(Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("cannot set up TLS")
                .contains("/nonexistent/trust.p12"));
            assertThat(silent.accepted()).isZero();
        }
    }

    @Test
    void plainAndLoginAreNeverSentWithoutTls() throws Exception {
        for (Provider.Mechanism mechanism : List.of(Provider.Mechanism.PLAIN, Provider.Mechanism.LOGIN)) {
            List<String> lines = new CopyOnWriteArrayList<>();
            try (ScriptedProvider provider = new ScriptedProvider(c -> {
                lines.add(c.greetAndEhlo("AUTH CRAM-MD5 PLAIN LOGIN", "ATRN"));
                lines.add(c.line());
            })) {
                PollOutcome outcome = CUSTOMER.poll(CustomerJames.provider("scripted",
                    provider.port(), Provider.Tls.NONE, Provider.Trust.JVM_DEFAULT, "customer", "customer-secret", mechanism,
                    List.of("customer.example"), STEP));

                assertThat(outcome.result()).isEqualTo(Result.REFUSED);
                assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("in clear"));
                await().atMost(10, SECONDS).until(() -> lines.size() == 2);
                assertThat(lines.get(1)).isEqualTo("QUIT");
            }
        }
    }

    @Test
    void aProviderWithoutAtrnIsRefusedBeforeAuth() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.send("220 mx.example ESMTP");
            lines.add(c.line());
            c.send("250-mx.example");
            c.send("250 AUTH CRAM-MD5 PLAIN");
            lines.add(c.line());
        })) {
            PollOutcome outcome = poll(provider.port(), List.of("customer.example"), STEP);

            assertThat(outcome.result()).isEqualTo(Result.REFUSED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("does not advertise ATRN"));
            await().atMost(10, SECONDS).until(() -> lines.size() == 2);
            assertThat(lines.get(0)).startsWith("EHLO ");
            assertThat(lines.get(1)).isEqualTo("QUIT");
        }
    }

    @Test
    void onlyRecipientsInTheRequestedDomainsAreAccepted() throws Exception {
        int before = inbox(ALICE).size();
        int beforeBob = inbox(BOB).size();
        List<String> replies = new CopyOnWriteArrayList<>();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            reversed(c);
            replies.add(String.join("|", c.reply()));
            replies.add(String.join("|", c.command("EHLO provider.test")));
            replies.add(String.join("|", c.command("MAIL FROM:<sender@sender.test>")));
            replies.add(String.join("|", c.command("RCPT TO:<mallory@relay.example>")));
            replies.add(String.join("|", c.command("RCPT TO:<" + BOB + ">")));
            replies.add(String.join("|", c.command("RCPT TO:<" + ALICE + ">")));
            replies.add(String.join("|", c.command("DATA")));
            c.sendRaw(Wire.dotStuff(Messages.simple("scoped", ALICE)));
            replies.add(String.join("|", c.reply()));
            replies.add(String.join("|", c.command("QUIT")));
        })) {
            PollOutcome outcome = poll(provider.port(), List.of("customer.example"), STEP);

            assertThat(outcome.result()).as(outcome.toString()).isEqualTo(Result.RECEIVED);
            assertThat(outcome.messages()).isEqualTo(1);
            assertThat(provider.atrnLines).containsExactly("ATRN customer.example");
            assertThat(provider.failures).isEmpty();
        }
        assertThat(replies.get(0)).startsWith("220 ");
        assertThat(replies.get(1)).contains("PIPELINING").contains("8BITMIME").doesNotContain("AUTH").doesNotContain("STARTTLS");
        assertThat(replies.get(3)).startsWith("550 5.7.1");
        assertThat(replies.get(4)).startsWith("550 5.7.1");
        assertThat(replies.get(5)).startsWith("250");
        assertThat(replies.get(7)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> inbox(ALICE).size() == before + 1);
        String delivered = new String(inbox(ALICE).get(before), StandardCharsets.ISO_8859_1);
        assertThat(delivered).contains("Subject: scoped").contains("(ODMR pull from scripted)");
        assertThat(inbox(BOB)).hasSize(beforeBob);
    }

    /** Turned around, then as the provider's SMTP client up to the 354 for one recipient. */
    private static void reversedUpToData(ScriptedProvider.Conversation c, String rcpt) throws IOException {
        c.reversedUpToData(rcpt);
    }

    /** The provider's side up to a 250 to ATRN: the line is turned around. */
    private static void reversed(ScriptedProvider.Conversation c) throws IOException {
        c.upToAtrn("250 OK now reversing the connection");
    }

    @Test
    void garbageBeforeTheTurnFailsThePollAndAfterItGetsJamesReply() throws Exception {
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.send("220 provider.test");
            c.line();
            c.send("hello, this is no SMTP reply");
            c.line();
        })) {
            PollOutcome outcome = poll(provider.port(), List.of("customer.example"), STEP);

            assertThat(outcome.result()).isEqualTo(Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("unparseable reply to"));
        }

        List<String> replies = new CopyOnWriteArrayList<>();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            reversed(c);
            c.reply();
            replies.add(String.join("|", c.command("\u0001\u0002 what?")));
            replies.add(String.join("|", c.command("QUIT")));
        })) {
            PollOutcome outcome = poll(provider.port(), List.of("customer.example"), STEP);

            assertThat(outcome.result()).isEqualTo(Result.RECEIVED);
            assertThat(outcome.messages()).isZero();
        }
        // the poll may end on James's 221 before the script has kept it
        await().atMost(10, SECONDS).until(() -> replies.size() == 2);
        assertThat(replies.get(0)).startsWith("5");
        assertThat(replies.get(1)).startsWith("221");
    }

    @Test
    void aCutMidDataEnqueuesNothingAndTheNextPollWorks() throws Exception {
        int before = inbox(ALICE).size();
        // cut in the middle of its 2,000-byte line, well before the final dot
        byte[] stuffed = Wire.dotStuff(Messages.tricky(ALICE));
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            reversedUpToData(c, ALICE);
            c.sendRaw(Arrays.copyOf(stuffed, stuffed.length / 2));
            c.socket.close();
        })) {
            PollOutcome outcome = poll(provider.port(), List.of("customer.example"), STEP);

            assertThat(outcome.result()).isEqualTo(Result.RECEIVED);
            assertThat(outcome.messages()).isZero();
            assertThat(outcome.bytes()).isZero();
        }

        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            reversedUpToData(c, ALICE);
            c.sendRaw(Wire.dotStuff(Messages.simple("after-the-cut", ALICE)));
            c.reply();
            c.command("QUIT");
        })) {
            PollOutcome outcome = poll(provider.port(), List.of("customer.example"), STEP);
            assertThat(outcome.messages()).isEqualTo(1);
        }
        await().atMost(30, SECONDS).until(() -> inbox(ALICE).size() >= before + 1);
        List<byte[]> inbox = inbox(ALICE);
        assertThat(inbox).hasSize(before + 1);
        assertThat(Messages.subject(inbox.get(before))).isEqualTo("after-the-cut");
    }

    @Test
    void aSilentProviderTimesOutAndTheNextPollWorks() throws Exception {
        try (SilentServer silent = new SilentServer()) {
            PollOutcome outcome = poll(silent.port(), List.of("customer.example"), Duration.ofSeconds(1));

            assertThat(outcome.result()).isEqualTo(Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("no reply to the greeting")
                .contains("within 1 s"));
        }
        // silent after AUTH: the ATRN reply has a timer of its own (twice the step timeout here)
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.send("220 provider.test ESMTP ODMR");
            c.line();
            c.send("250-provider.test");
            c.send("250-AUTH CRAM-MD5");
            c.send("250 ATRN");
            c.line();
            c.send("334 PDEuMkBwcm92aWRlci50ZXN0Pg==");
            c.line();
            c.send("235 2.7.0 ok");
            c.line();
            c.line();
        })) {
            PollOutcome outcome = poll(provider.port(), List.of(), Duration.ofSeconds(1));

            assertThat(outcome.result()).isEqualTo(Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("no reply to ATRN").contains("within 2 s"));
        }
        // silent after the turn, mid-DATA: James's own idle timeout (connectiontimeout of the
        // inbound server) ends the session, and the half message is not enqueued
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            reversedUpToData(c, ALICE);
            c.sendRaw("Subject: never finished\r\n".getBytes(StandardCharsets.US_ASCII));
            c.line();
        })) {
            PollOutcome outcome = poll(provider.port(), List.of("customer.example"), STEP);

            assertThat(outcome.result()).isEqualTo(Result.RECEIVED);
            assertThat(outcome.messages()).isZero();
            assertThat(outcome.took()).isGreaterThanOrEqualTo(Duration.ofSeconds(IDLE_SECONDS)).isLessThan(STEP);
        }
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            String atrn = c.upToAtrn("453 You have no mail");
            if (!atrn.equals("ATRN")) {
                throw new IOException("a poll without domains sends a bare ATRN, not " + atrn);
            }
            c.line();
        })) {
            PollOutcome outcome = poll(provider.port(), List.of(), STEP);

            assertThat(outcome.result()).isEqualTo(Result.NOTHING_WAITING);
            assertThat(provider.failures).isEmpty();
        }
    }
}
