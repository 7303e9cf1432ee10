package dev.jamesatrn.it;

import static dev.jamesatrn.testing.james.CustomerJames.ALICE;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.customer.PollOutcome;
import dev.jamesatrn.customer.PollOutcome.Result;
import dev.jamesatrn.customer.Provider;

import dev.jamesatrn.testing.james.CustomerJames;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.ScriptedProvider;
import dev.jamesatrn.testing.smtp.Wire;

/**
 * James as the ODMR customer against a hostile provider or a man in the middle: what it may slip
 * into the reversed session (recipients outside the request, AUTH, a smuggled second message),
 * and how it may try to keep the poll or the connection busy forever. Each attack must leave the
 * spool untouched and end the poll in bounded time.
 */
class CustomerHostileProviderTest {
    private static final int IDLE_SECONDS = 3;
    @RegisterExtension
    static final CustomerJames CUSTOMER = new CustomerJames(IDLE_SECONDS);
    private static final Duration STEP = Duration.ofSeconds(10);
    private static final String CHALLENGE = Base64.getEncoder().encodeToString("<1.2@provider.test>".getBytes(US_ASCII));

    private static PollOutcome poll(int port, Provider.Tls tls, Duration timeout) throws Exception {
        return CUSTOMER.poll(CustomerJames.provider("hostile", port, tls,
            Provider.Trust.JVM_DEFAULT, "customer", "customer-secret", Provider.Mechanism.CRAM_MD5, List.of("customer.example"),
            timeout));
    }

    private static PollOutcome poll(int port) throws Exception {
        return poll(port, Provider.Tls.NONE, STEP);
    }

    /** A poll on another thread, for the tests that act while it runs or bound how long it may take. */
    private static CompletableFuture<PollOutcome> pollInBackground(int port, Duration maxReceiveTime) {
        Provider provider = new Provider("hostile", "localhost", port, Provider.Tls.NONE, true, Provider.Trust.JVM_DEFAULT,
            "customer", "customer-secret", Provider.Mechanism.CRAM_MD5, List.of("customer.example"), Duration.ofMinutes(5),
            Duration.ofMinutes(1), Duration.ofHours(1), STEP, STEP, maxReceiveTime);
        return CompletableFuture.supplyAsync(() -> {
            try {
                return CUSTOMER.poll(provider);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static List<byte[]> inbox(String user) throws Exception {
        return CUSTOMER.inbox(user);
    }

    private static void upToData(ScriptedProvider.Conversation c) throws IOException {
        c.reversedUpToData(ALICE);
    }

    /** Delivers a marker message in a poll of its own and waits for it: whatever came before it has arrived too. */
    private static List<String> subjectsAfterMarker(String marker) throws Exception {
        int before = inbox(ALICE).size();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            upToData(c);
            c.sendRaw(Wire.dotStuff(Messages.simple(marker, ALICE)));
            c.reply();
            c.command("QUIT");
        })) {
            assertThat(poll(provider.port()).messages()).isEqualTo(1);
        }
        await().atMost(30, SECONDS).until(() -> inbox(ALICE).size() >= before + 1);
        List<String> subjects = new ArrayList<>();
        for (byte[] message : inbox(ALICE)) {
            subjects.add(Messages.subject(message));
        }
        return subjects;
    }

    @Test
    void noRecipientFormReachesBeyondTheRequestedDomainsAndAuthGivesNoRights() throws Exception {
        int before = inbox(ALICE).size();
        // every one of these must be refused; sent pipelined, as a provider may (RFC 2920)
        List<String> outside = List.of(
            "<mallory@relay.example>",
            "<@customer.example:mallory@relay.example>",
            "<@relay.example:mallory@relay.example>",
            "<postmaster@relay.example>",
            "<abuse@relay.example>",
            "<postmaster>",
            "<mallory@RELAY.EXAMPLE>",
            "<mallory@relay.example.>",
            "<alice@customer.example.relay.example>",
            "<mallory@[127.0.0.1]>",
            "<\"mallory@relay.example\"@relay.example>",
            "<mallory@>",
            "<mallory%relay.example@customer.example>",
            "<alice@b\u00fccher.example>");
        Map<String, String> replies = new LinkedHashMap<>();
        List<String> auth = new CopyOnWriteArrayList<>();
        List<String> ends = new CopyOnWriteArrayList<>();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.turnAround();
            auth.add(String.join("|", c.command("EHLO provider.test")));
            // alice's own credentials: a provider that knew them still gains nothing here
            auth.add(String.join("|", c.command("AUTH PLAIN " + Base64.getEncoder().encodeToString(
                ("\0" + ALICE + "\0secret").getBytes(US_ASCII)))));
            auth.add(String.join("|", c.command("MAIL FROM:<sender@sender.test> AUTH=<" + ALICE + ">")));
            if (!auth.get(auth.size() - 1).startsWith("250")) {
                auth.add(String.join("|", c.command("MAIL FROM:<sender@sender.test>")));
            }
            ByteArrayOutputStream pipelined = new ByteArrayOutputStream();
            for (String rcpt : outside) {
                pipelined.writeBytes(("RCPT TO:" + rcpt + "\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            c.sendRaw(pipelined.toByteArray());
            for (String rcpt : outside) {
                replies.put(rcpt, String.join("|", c.reply()));
            }
            ends.add(String.join("|", c.command("RCPT TO:<ALICE@CUSTOMER.EXAMPLE>")));
            ends.add(String.join("|", c.command("DATA")));
            c.sendRaw(Wire.dotStuff(Messages.simple("in-scope-only", ALICE)));
            ends.add(String.join("|", c.reply()));
            c.command("QUIT");
        })) {
            PollOutcome outcome = poll(provider.port());

            assertThat(provider.failures).isEmpty();
            assertThat(outcome.result()).as(outcome.toString()).isEqualTo(Result.RECEIVED);
            assertThat(outcome.messages()).isEqualTo(1);
        }
        assertThat(auth.get(0)).doesNotContain("AUTH");
        assertThat(auth.get(1)).startsWith("5");
        // without James's AuthCmdHandler the MAIL parameter AUTH= is ignored: no identity, no relay
        assertThat(replies.get("<mallory@relay.example>")).startsWith("550 5.7.1");
        assertThat(replies).hasSize(outside.size()).allSatisfy((rcpt, reply) -> assertThat(reply).as(rcpt).startsWith("5"));
        assertThat(replies.get("<postmaster@relay.example>")).startsWith("550 5.7.1");
        assertThat(ends.get(0)).startsWith("250");
        assertThat(ends.get(2)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> inbox(ALICE).size() == before + 1);
        byte[] delivered = inbox(ALICE).get(before);
        assertThat(Messages.subject(delivered)).isEqualTo("in-scope-only");
    }

    @Test
    void aBareLineFeedEndOfDataSmugglesNothing() throws Exception {
        List<String> replies = new CopyOnWriteArrayList<>();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            upToData(c);
            // RFC 5321 4.1.1.4: only CRLF.CRLF ends the data; a receiver that took LF.LF would
            // enqueue "smuggled" as a second message the provider never had to authenticate for
            c.sendRaw(("Subject: carrier\r\n\r\nbody\n.\nMAIL FROM:<ceo@customer.example>\nRCPT TO:<" + ALICE
                + ">\nDATA\nSubject: smuggled\n\nforged\n.\r\n").getBytes(US_ASCII));
            replies.add(String.join("|", c.reply()));
        })) {
            PollOutcome outcome = poll(provider.port());

            assertThat(outcome.result()).isEqualTo(Result.RECEIVED);
            assertThat(outcome.messages()).isZero();
        }
        assertThat(replies).hasSize(1);
        assertThat(replies.get(0)).startsWith("500").contains("CRLF");
        assertThat(subjectsAfterMarker("after-smuggling")).doesNotContain("carrier", "smuggled").contains("after-smuggling");
    }

    @Test
    @Timeout(60)
    void aProviderThatNeverEndsTheAuthExchangeEndsThePoll() throws Exception {
        AtomicInteger challenges = new AtomicInteger();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.greetAndEhlo("AUTH CRAM-MD5", "ATRN");
            c.line();
            while (challenges.get() < 1000) {
                c.send("334 " + CHALLENGE);
                challenges.incrementAndGet();
                c.line();
            }
        })) {
            PollOutcome outcome = poll(provider.port());

            assertThat(outcome.result()).as(outcome.toString()).isIn(Result.REFUSED, Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("AUTH"));
            assertThat(challenges.get()).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void overlongOrEndlessRepliesBeforeTheTurnEndThePoll() throws Exception {
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.send("220 " + "x".repeat(100_000));
            c.line();
        })) {
            PollOutcome outcome = poll(provider.port());

            assertThat(outcome.result()).isEqualTo(Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("longer than"));
        }
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.send("220 provider.test ESMTP ODMR");
            c.line();
            c.send("250-provider.test");
            for (int i = 0; i < 100_000; i++) {
                c.send("250-ATRN");
            }
        })) {
            PollOutcome outcome = poll(provider.port());

            assertThat(outcome.result()).isEqualTo(Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("went past 100 lines"));
        }
    }

    @Test
    void aManInTheMiddleCannotStripNorInjectIntoStartTls() throws Exception {
        List<String> afterEhlo = new CopyOnWriteArrayList<>();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.greetAndEhlo("AUTH CRAM-MD5 PLAIN", "ATRN");
            afterEhlo.add(c.line());
        })) {
            PollOutcome outcome = poll(provider.port(), Provider.Tls.STARTTLS, STEP);

            assertThat(outcome.result()).isEqualTo(Result.REFUSED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("does not offer STARTTLS"));
            await().atMost(10, SECONDS).until(() -> afterEhlo.size() == 1);
            assertThat(afterEhlo).containsExactly("QUIT");
        }
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.greetAndEhlo("STARTTLS", "AUTH CRAM-MD5", "ATRN");
            c.line();
            // RFC 3207 section 5: an injected EHLO reply in clear, after the 220, in the same write
            c.sendRaw("220 go ahead\r\n250-provider.test\r\n250-AUTH PLAIN\r\n250 ATRN\r\n".getBytes(US_ASCII));
            c.line();
        })) {
            PollOutcome outcome = poll(provider.port(), Provider.Tls.STARTTLS, STEP);

            assertThat(outcome.result()).isEqualTo(Result.FAILED);
            assertThat(outcome.error()).hasValueSatisfying(error -> assertThat(error).contains("injection"));
        }
    }

    @Test
    @Timeout(120)
    void aProviderTricklingCommandsAfterTheTurnIsCutInBoundedTime() throws Exception {
        AtomicInteger noops = new AtomicInteger();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.turnAround();
            c.command("EHLO provider.test");
            // the attacker's pace, not a synchronisation: one command a second, so that James's
            // idle timeout (3 s here) never fires
            for (int i = 0; i < 40; i++) {
                c.command("NOOP");
                noops.incrementAndGet();
                Thread.sleep(1000);
            }
        })) {
            CompletableFuture<PollOutcome> outcome = pollInBackground(provider.port(), Duration.ofSeconds(4));

            PollOutcome ended = outcome.get(20, SECONDS);
            assertThat(ended.result()).isEqualTo(Result.RECEIVED);
            assertThat(ended.error()).hasValueSatisfying(error -> assertThat(error).contains("maxReceiveTime 4 s"));
            assertThat(ended.took()).isGreaterThanOrEqualTo(Duration.ofSeconds(4));
            assertThat(noops.get()).isLessThan(40);
        }
    }

    @Test
    @Timeout(120)
    void aProviderThatPipelinesWithoutReadingRepliesIsCutByTheIdleTimeout() throws Exception {
        AtomicLong written = new AtomicLong();
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            c.turnAround();
            // EHLO: 20 bytes in, about 130 out. Never reading a reply, as a hostile provider would:
            // without back-pressure James keeps reading and buffers the replies without bound.
            byte[] batch = "EHLO provider.test\r\n".repeat(1000).getBytes(US_ASCII);
            while (written.get() < 512L * 1024 * 1024) {
                c.out.write(batch);
                written.addAndGet(batch.length);
            }
        })) {
            CompletableFuture<PollOutcome> outcome = pollInBackground(provider.port(), Duration.ofHours(1));

            // once the replies are not read, we stop reading too; nothing moves and James's idle
            // timeout (3 s here) ends the session
            PollOutcome ended = outcome.get(60, SECONDS);
            assertThat(ended.result()).isEqualTo(Result.RECEIVED);
            assertThat(ended.error()).isEmpty();
            // what the kernels' socket buffers and one read hold, not the flood
            assertThat(written.get()).isLessThan(64L * 1024 * 1024);
        }
    }

    @Test
    @Timeout(120)
    void stoppingThePollerMidDataEnqueuesNothingAndReturnsThePoll() throws Exception {
        CountDownLatch midData = new CountDownLatch(1);
        try (ScriptedProvider provider = new ScriptedProvider(c -> {
            upToData(c);
            c.sendRaw("Subject: cut-by-shutdown\r\n\r\nhalf a body\r\n".getBytes(US_ASCII));
            midData.countDown();
            c.line();
        })) {
            CompletableFuture<PollOutcome> outcome = pollInBackground(provider.port(), Duration.ofHours(1));
            assertThat(midData.await(30, SECONDS)).isTrue();
            CUSTOMER.probe().closePoller();

            PollOutcome ended = outcome.get(30, SECONDS);
            assertThat(ended.messages()).isZero();
        }
        assertThat(subjectsAfterMarker("after-shutdown")).doesNotContain("cut-by-shutdown").contains("after-shutdown");
    }
}
