package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.FlakyMailRepositoryStore;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * Storage failures and silent customers, with the reversed-session timeouts shortened to 2 s in
 * conf/atrn.xml (the setting an operator would change) so the test does not wait 5 minutes.
 */
class FaultsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(
        AtrnJames.atrnXmlWith("<timeouts><greeting>2s</greeting><command>2s</command><mail>2s</mail>"
            + "<rcpt>2s</rcpt><dataInitiation>2s</dataInitiation><dataBlock>2s</dataBlock>"
            + "<dataTermination>2s</dataTermination></timeouts>"),
        binder -> binder.bind(MailRepositoryStore.class).to(FlakyMailRepositoryStore.class));

    @AfterEach
    void reset(GuiceJamesServer server) throws Exception {
        FlakyMailRepositoryStore.FAILING.set(false);
        FlakyMailRepositoryStore.FAILING_REMOVE.set(false);
        server.getProbe(ParkedProbe.class).clear("customer.example", "customer2.example", "other.example");
    }

    private void park(GuiceJamesServer server, String rcpt, String domain) throws Exception {
        PORTS.park(server, domain, rcpt, Messages.simple("fault", rcpt));
    }

    private OdmrClient authenticated(String login, String secret) throws Exception {
        return PORTS.authenticated(login, secret);
    }

    @Test
    void unreadableStoreGets451AndReleasesTheDomain(GuiceJamesServer server) throws Exception {
        park(server, "alice@other.example", "other.example");
        FlakyMailRepositoryStore.FAILING.set(true);

        try (OdmrClient client = authenticated("other", "other-secret")) {
            assertThat(client.command("ATRN other.example").get(0))
                .isEqualTo("451 4.3.0 parked mail of other.example cannot be read now; try again later");
            assertThat(client.command("NOOP").get(0)).startsWith("250");

            FlakyMailRepositoryStore.FAILING.set(false);
            assertThat(client.command("ATRN other.example").get(0)).startsWith("250");
            CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            client.serve(customer);
            assertThat(customer.received).hasSize(1);
        }
    }

    /**
     * The next message's envelope is already out when a delivered message is removed; when that
     * removal fails, the next message must not be delivered as well (no QUIT inside its data, no
     * end of data: the connection is dropped), so a store failure leaves at most one delivered
     * message parked.
     */
    @Test
    void aRemovalThatFailsStopsTheDrainBeforeTheNextEndOfData(GuiceJamesServer server) throws Exception {
        for (int i = 0; i < 3; i++) {
            PORTS.park(server, "other.example", "alice@other.example", Messages.simple("removal-" + i, "alice@other.example"));
        }
        CustomerServer customer = new CustomerServer((step, index, reply) -> {
            if (step.equals("END") && index == 0) {
                FlakyMailRepositoryStore.FAILING_REMOVE.set(true);
            }
            return Optional.of(reply);
        });
        try (OdmrClient client = authenticated("other", "other-secret")) {
            assertThat(client.command("ATRN other.example").get(0)).startsWith("250");
            // James drops the connection while the customer reads the next message's data
            assertThatThrownBy(() -> client.serve(customer)).isInstanceOf(EOFException.class);
        }

        assertThat(customer.received).extracting(received -> Messages.subject(received.data())).containsExactly("removal-0");
        FlakyMailRepositoryStore.FAILING_REMOVE.set(false);
        assertThat(server.getProbe(ParkedProbe.class).count("other.example")).isEqualTo(3);
    }

    @Test
    void aCustomerThatNeverGreetsIsDroppedAtTheGreetingTimeoutAndMailStaysParked(GuiceJamesServer server) throws Exception {
        park(server, "alice@customer.example", "customer.example");

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            // say nothing: the provider gives up after the configured 2 s and closes
            assertThat(client.closedByPeer()).isTrue();
        }
        assertThat(server.getProbe(ParkedProbe.class).count("customer.example")).isEqualTo(1);

        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }
        assertThat(customer.received).hasSize(1);
    }

    @Test
    void aCustomerThatStallsAfterMailFromIsDroppedAndMailStaysParked(GuiceJamesServer server) throws Exception {
        park(server, "alice@customer.example", "customer.example");
        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            CustomerServer.Script silentAtMail = (step, index, reply) -> step.equals("MAIL") ? Optional.empty() : Optional.of(reply);
            client.serve(new CustomerServer(silentAtMail));
            assertThat(client.closedByPeer()).isTrue();
        }
        assertThat(server.getProbe(ParkedProbe.class).count("customer.example")).isEqualTo(1);
    }

    @Test
    void aCustomerTricklingItsGreetingIsDroppedAtTheTimeoutWhileOthersAreServed(GuiceJamesServer server) throws Exception {
        park(server, "alice@customer.example", "customer.example");
        long start = System.nanoTime();

        try (OdmrClient client = authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            CompletableFuture<Void> trickle = CompletableFuture.runAsync(() -> {
                try {
                    for (byte b : "220 customer.example ready, one byte at a time\r\n".getBytes(StandardCharsets.US_ASCII)) {
                        client.sendRaw(new byte[] {b});
                        // the peer under test is slow on purpose: this pause is its behaviour, not a wait for us
                        Thread.sleep(200);
                    }
                } catch (Exception e) {
                    // the provider hung up on us: expected
                }
            });
            try (OdmrClient other = new OdmrClient(PORTS.odmrPort)) {
                assertThat(other.command("NOOP").get(0)).startsWith("250");
            }
            assertThat(client.closedByPeer()).isTrue();
            trickle.cancel(true);
        }

        // the configured greeting timeout is 2 s; the whole greeting would have taken about 10 s
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        assertThat(server.getProbe(ParkedProbe.class).count("customer.example")).isEqualTo(1);
    }
}
