package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.jamesatrn.testing.host.Fetchmail;
import dev.jamesatrn.testing.host.Prerequisites;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * The real ODMR customer: Debian's fetchmail in ODMR mode (CRAM-MD5, ATRN with a domain list),
 * relaying the reversed session into a local SMTP sink.
 */
class FetchmailInteropTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension();

    @Test
    void fetchmailDrainsEveryClaimedDomainByteExactThenSeesNoMail(GuiceJamesServer server, @TempDir Path home) throws Exception {
        Prerequisites.require(Fetchmail.installed(), Fetchmail.NOT_INSTALLED);
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        send("alice@customer.example", Messages.tricky("alice@customer.example"));
        send("bob@customer.example", Messages.simple("second", "bob@customer.example"));
        send("carol@customer2.example", Messages.simple("third", "carol@customer2.example"));
        await().atMost(30, SECONDS).until(() -> probe.count("customer.example") == 2 && probe.count("customer2.example") == 1);
        List<ParkedProbe.Parked> parked = new ArrayList<>(probe.all("customer.example"));
        parked.addAll(probe.all("customer2.example"));

        try (SmtpSink sink = new SmtpSink()) {
            Fetchmail.Run first = Fetchmail.poll(home, PORTS.odmrPort, "customer", "customer-secret",
                "customer.example,customer2.example", sink.port());

            assertThat(first.exitCode()).as(first.output()).isZero();
            assertThat(sink.received()).hasSize(3);
            for (ParkedProbe.Parked original : parked) {
                assertThat(sink.received()).anySatisfy(received -> assertThat(received.data()).isEqualTo(original.bytes()));
            }
            assertThat(probe.count("customer.example")).isZero();
            assertThat(probe.count("customer2.example")).isZero();

            Fetchmail.Run second = Fetchmail.poll(home, PORTS.odmrPort, "customer", "customer-secret",
                "customer.example,customer2.example", sink.port());
            // fetchmail takes our 453 as a successful poll with nothing to fetch.
            assertThat(second.exitCode()).as(second.output()).isZero();
            assertThat(second.output()).contains("ODMR< 453 You have no mail");
            assertThat(sink.received()).hasSize(3);
        }
    }

    private void send(String rcpt, byte[] message) throws Exception {
        List<String> replies = Inbound.send(PORTS.inboundPort, "sender@sender.test", List.of(rcpt), message);
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
    }
}
