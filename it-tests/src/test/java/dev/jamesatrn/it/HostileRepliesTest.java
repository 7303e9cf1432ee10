package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Replies James cannot trust from the ATRN customer in the reversed session: a 421 to
 * end-of-data, an enhanced status code of the wrong class.
 */
class HostileRepliesTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension();

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        for (String domain : List.of("customer.example", "customer2.example")) {
            server.getProbe(ParkedProbe.class).clear(domain);
        }
    }

    private static ParkedProbe probe(GuiceJamesServer server) {
        return server.getProbe(ParkedProbe.class);
    }

    /** Parked for alice, from a sender in another ATRN domain, so a DSN would be parked where the test sees it. */
    private static void parkWithVisibleBounces(GuiceJamesServer server, String subject) throws Exception {
        long before = probe(server).count("customer.example");
        List<String> replies = Inbound.send(PORTS.inboundPort, "postmaster@customer2.example",
            List.of("alice@customer.example"), Messages.simple(subject, "alice@customer.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe(server).count("customer.example") == before + 1);
    }

    // ---- issue 13 item 11 ----

    @Test
    void a421ToEndOfDataEndsTheSessionAtOnceAndNothingMoreIsSent(GuiceJamesServer server) throws Exception {
        parkWithVisibleBounces(server, "closing-1");
        parkWithVisibleBounces(server, "closing-2");
        CustomerServer closing = new CustomerServer((step, index, reply) ->
            Optional.of(step.equals("END") ? "421 4.3.2 shutting down" : reply));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            try {
                client.serve(closing);
            } catch (EOFException e) {
                // James hung up after the 421, as it should
            }
        }

        assertThat(closing.commands).as("nothing after the 421, not even QUIT").last().isEqualTo("DATA");
        assertThat(closing.commands.stream().filter(command -> command.startsWith("MAIL FROM")).count()).isEqualTo(1);
        assertThat(probe(server).count("customer.example")).as("both still parked").isEqualTo(2);
        assertThat(probe(server).count("customer2.example")).as("no bounce").isZero();
    }

    @Test
    void aPermanentReplyWithATransientEnhancedCodeBouncesWithAPermanentStatus(GuiceJamesServer server) throws Exception {
        parkWithVisibleBounces(server, "wrong-class");
        CustomerServer customer = new CustomerServer((step, index, reply) ->
            Optional.of(step.startsWith("RCPT") ? "550 4.2.2 mailbox full" : reply));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        await().atMost(30, SECONDS).until(() -> probe(server).count("customer2.example") == 1);
        String dsn = new String(probe(server).all("customer2.example").get(0).bytes(), StandardCharsets.ISO_8859_1);
        // RFC 3463 section 2: the class of the enhanced code must agree with the reply code; the
        // reply code (550) is what decided the bounce, so it decides the class too.
        assertThat(dsn).contains("Action: failed").contains("Status: 5.2.2").doesNotContain("Status: 4.2.2");
        assertThat(probe(server).count("customer.example")).isZero();
    }
}
