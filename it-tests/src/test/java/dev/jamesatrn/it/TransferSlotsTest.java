package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * {@code maxParallelTransfers}: a drain holds a transfer slot only while James works for it
 * (reading the store, preparing data, changing the store), never while it waits on the network.
 * With one slot, a customer that holds its reply to the final dot, or reads nothing of the
 * message, must not hold up another customer's drain.
 */
class TransferSlotsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(AtrnJames.atrnXmlWith("<maxParallelTransfers>1</maxParallelTransfers>"));

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        server.getProbe(ParkedProbe.class).clear("customer.example", "customer2.example", "other.example");
    }

    private CompletableFuture<Void> drain(String domain, CustomerServer customer) {
        return CompletableFuture.runAsync(() -> {
            try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
                assertThat(client.command("ATRN " + domain).get(0)).startsWith("250");
                client.serve(customer);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void withOneSlotACustomerHoldingItsEndOfDataReplyDoesNotHoldUpAnotherDrain(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "customer.example", "alice@customer.example", Messages.simple("first", "alice@customer.example"));
        PORTS.park(server, "customer2.example", "carol@customer2.example", Messages.simple("second", "carol@customer2.example"));
        CountDownLatch atEnd = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CustomerServer holding = CustomerServer.stoppingAt("END", atEnd, release);
        CustomerServer other = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);

        CompletableFuture<Void> first = drain("customer.example", holding);
        try {
            assertThat(atEnd.await(30, SECONDS)).isTrue();
            // served to the end (QUIT) while the first customer still sits on its reply
            drain("customer2.example", other).get(30, SECONDS);
            assertThat(other.received).extracting(received -> Messages.subject(received.data())).containsExactly("second");
            assertThat(holding.received).isEmpty();
        } finally {
            release.countDown();
        }

        first.get(30, SECONDS);
        assertThat(holding.received).extracting(received -> Messages.subject(received.data())).containsExactly("first");
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(10, SECONDS).until(() -> probe.count("customer.example") == 0 && probe.count("customer2.example") == 0);
    }

    /**
     * A customer that reads none of a message bigger than every buffer on the way (Netty's,
     * the kernel's on both ends): James waits for room to write, without the slot.
     */
    @Test
    void withOneSlotACustomerThatReadsNothingOfAMessageDoesNotHoldUpAnotherDrain(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "customer.example", "alice@customer.example", big("large", "alice@customer.example", 16 * 1024 * 1024));
        PORTS.park(server, "customer2.example", "carol@customer2.example", Messages.simple("small", "carol@customer2.example"));
        CountDownLatch atData = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CustomerServer stalled = CustomerServer.stoppingAt("DATA-STREAM", atData, release).discardingData();
        CustomerServer other = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);

        CompletableFuture<Void> first = drain("customer.example", stalled);
        try {
            assertThat(atData.await(30, SECONDS)).isTrue();
            drain("customer2.example", other).get(30, SECONDS);
            assertThat(other.received).extracting(received -> Messages.subject(received.data())).containsExactly("small");
        } finally {
            release.countDown();
        }

        first.get(60, SECONDS);
        assertThat(stalled.received).hasSize(1);
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(10, SECONDS).until(() -> probe.count("customer.example") == 0 && probe.count("customer2.example") == 0);
    }

    private static byte[] big(String subject, String to, int bodyBytes) {
        StringBuilder message = new StringBuilder(bodyBytes + 200)
            .append("From: sender@sender.test\r\nTo: ").append(to).append("\r\nSubject: ").append(subject)
            .append("\r\nMessage-ID: <").append(subject).append("@sender.test>\r\n\r\n");
        String line = "x".repeat(76) + "\r\n";
        while (message.length() < bodyBytes) {
            message.append(line);
        }
        return message.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
