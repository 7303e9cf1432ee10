package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

import javax.inject.Inject;
import javax.mail.Session;
import javax.mail.internet.MimeMessage;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.server.core.MailImpl;
import org.apache.james.utils.GuiceProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.google.inject.multibindings.Multibinder;

import dev.jamesatrn.store.ParkedNames;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * SMTP smuggling (issue 13 item 10): a body line holding a bare CR or a bare LF around a dot
 * must never reach the customer as something a lenient receiver could take for end-of-data
 * followed by commands. James's inbound port accepts a bare CR inside a line; a bare LF can only
 * be parked by other means (a repository filled by hand, another James version), so the probe
 * below parks that one directly.
 */
class SmtpSmugglingTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(path -> {
    }, binder -> Multibinder.newSetBinder(binder, GuiceProbe.class).addBinding().to(RawParking.class));

    /** Parks bytes exactly as given, past the inbound SMTP checks. */
    public static class RawParking implements GuiceProbe {
        private final MailRepositoryStore store;

        @Inject
        public RawParking(MailRepositoryStore store) {
            this.store = store;
        }

        public void park(String domain, String sender, String recipient, byte[] message) throws Exception {
            MimeMessage mime = new MimeMessage(Session.getDefaultInstance(new Properties()), new ByteArrayInputStream(message));
            MailImpl mail = MailImpl.builder()
                .name(ParkedNames.newName(Instant.now(), false, message.length))
                .sender(new MailAddress(sender))
                .addRecipient(new MailAddress(recipient))
                .mimeMessage(mime)
                .build();
            try {
                store.select(MailRepositoryUrl.from(ParkedProbe.PREFIX + domain)).store(mail);
            } finally {
                mail.dispose();
            }
        }
    }

    @Test
    void bareCarriageReturnsAndLineFeedsReachTheCustomerAsCrlfWithTheDotLineStuffed(GuiceJamesServer server) throws Exception {
        String header = "From: sender@sender.test\r\nTo: alice@customer.example\r\nSubject: smuggled\r\n\r\n";
        PORTS.park(server, "customer.example", "alice@customer.example",
            (header + "before\r.\rMAIL FROM:<evil@x>\rafter\r\n").getBytes(StandardCharsets.US_ASCII));
        server.getProbe(RawParking.class).park("customer.example", "sender@sender.test", "bob@customer.example",
            (header + "line\n.\nRCPT TO:<evil@x>\nmixed\r.\n.\rend\r\n").getBytes(StandardCharsets.US_ASCII));
        await().atMost(30, SECONDS).until(() -> server.getProbe(ParkedProbe.class).count("customer.example") == 2);

        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).hasSize(2);
        for (CustomerServer.Received message : customer.received) {
            String data = new String(message.data(), StandardCharsets.US_ASCII);
            assertThat(data).as("no bare CR").doesNotContainPattern("\r(?!\n)");
            assertThat(data).as("no bare LF").doesNotContainPattern("(?<!\r)\n");
        }
        // The customer's reader ends DATA only on CRLF "." CRLF and undoes the dot-stuffing: each
        // lone "." below was sent as "..", so no receiver could end the data there.
        List<String> bodies = customer.received.stream()
            .map(message -> new String(Messages.body(message.data()), StandardCharsets.US_ASCII)).toList();
        assertThat(bodies).containsExactlyInAnyOrder(
            "before\r\n.\r\nMAIL FROM:<evil@x>\r\nafter\r\n",
            "line\r\n.\r\nRCPT TO:<evil@x>\r\nmixed\r\n.\r\n.\r\nend\r\n");
        assertThat(customer.commands).noneMatch(command -> command.contains("evil@x"));
    }
}
