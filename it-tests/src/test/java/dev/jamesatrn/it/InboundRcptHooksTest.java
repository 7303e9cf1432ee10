package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.dnsservice.api.InMemoryDNSService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;

/**
 * The inbound RCPT chain with an ISP's anti-abuse handlers in smtpserver.xml (James's
 * {@code MaxRcptHandler} and {@code DNSRBLHandler}, the blocklist answered by an in-memory DNS):
 * recipients in ATRN domains go through them exactly like any other recipient; only the relay
 * decision differs. Clients come from two loopback addresses: 127.0.0.2 is on the blocklist,
 * 127.0.0.1 is not.
 */
class InboundRcptHooksTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final String LISTED = "127.0.0.2";
    private static final String CLEAN = "127.0.0.1";

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(InboundRcptHooksTest::withAntiAbuseHandlers,
        binder -> binder.bind(DNSService.class).toInstance(dns()));

    /** An RBL answers 127.0.0.2 for a listed address, NXDOMAIN otherwise. */
    private static InMemoryDNSService dns() {
        try {
            return new InMemoryDNSService()
                .registerRecord("2.0.0.127.rbl.test", InetAddress.getByName("127.0.0.2"), "rbl.test")
                .registerRecord("localhost", InetAddress.getByName("127.0.0.1"), "localhost");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void withAntiAbuseHandlers(Path workingDirectory) {
        JamesLayout.insertAfter(workingDirectory, "smtpserver.xml",
            "<handler class=\"org.apache.james.smtpserver.fastfail.ValidRcptHandler\"/>",
            "<handler class=\"org.apache.james.smtpserver.fastfail.MaxRcptHandler\"><maxRcpt>2</maxRcpt></handler>"
                + "<handler class=\"org.apache.james.smtpserver.fastfail.DNSRBLHandler\">"
                + "<rblservers><blacklist>rbl.test</blacklist></rblservers></handler>");
    }

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        server.getProbe(ParkedProbe.class).clear("customer.example", "customer2.example", "other.example");
    }

    @Test
    void maxRcptHandlerLimitsAtrnRecipientsToo(GuiceJamesServer server) throws Exception {
        List<String> replies = transaction(CLEAN, List.of("alice@customer.example", "bob@customer.example", "carol@customer.example"));

        assertThat(replies.get(0)).as("MAIL").startsWith("250");
        assertThat(replies.get(1)).as("first RCPT").startsWith("250");
        assertThat(replies.get(2)).as("second RCPT").startsWith("250");
        assertThat(replies.get(3)).as("third RCPT, past maxRcpt").startsWith("452 4.5.3");
        assertThat(replies.get(4)).as("end of data").startsWith("250");
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(30, SECONDS).until(() -> probe.count("customer.example") == 1);
        assertThat(probe.all("customer.example").get(0).recipients())
            .containsExactlyInAnyOrder("alice@customer.example", "bob@customer.example");
    }

    @Test
    void aBlocklistedClientCannotSendToAnAtrnDomain(GuiceJamesServer server) throws Exception {
        List<String> replies = transaction(LISTED, List.of("alice@customer.example"));

        assertThat(replies).as("MAIL and RCPT").noneMatch(reply -> reply.startsWith("250 2.1.5"));
        assertThat(replies).anyMatch(reply -> reply.startsWith("554 5.7.1 Rejected: unauthenticated e-mail from"));
        assertThat(server.getProbe(ParkedProbe.class).count("customer.example")).isZero();
    }

    @Test
    void aCleanClientStillParksAndRecipientListsStillApply(GuiceJamesServer server) throws Exception {
        List<String> replies = transaction(CLEAN, List.of("alice@other.example", "mallory@other.example"));

        assertThat(replies.get(1)).startsWith("250");
        assertThat(replies.get(2)).startsWith("550 5.1.1");
        assertThat(replies.get(3)).as("end of data").startsWith("250");
        await().atMost(30, SECONDS).until(() -> server.getProbe(ParkedProbe.class).count("other.example") == 1);
    }

    /**
     * EHLO, MAIL, one RCPT per recipient, and DATA when a recipient was accepted, from the given
     * local address. Returns the replies to MAIL, each RCPT and end-of-data (if sent).
     */
    private static List<String> transaction(String from, List<String> recipients) throws IOException {
        try (Inbound session = Inbound.connect(PORTS.inboundPort, from)) {
            List<String> replies = new ArrayList<>();
            replies.add(session.command("MAIL FROM:<sender@sender.test>"));
            List<String> rcptReplies = session.rcptTo(recipients);
            replies.addAll(rcptReplies);
            if (Inbound.anyAccepted(rcptReplies)) {
                replies.add(session.data(Messages.simple("rcpt-chain", recipients.get(0))));
            }
            session.quit();
            return replies;
        }
    }
}
