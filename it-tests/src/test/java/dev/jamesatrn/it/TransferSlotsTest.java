package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code maxParallelTransfers}: drains take turns for message transactions, so they never take
 * every core from inbound SMTP. Given one slot and a customer that holds its reply to the final
 * dot, a second session for another domain gets its reversed session but no MAIL until the
 * first transaction is over; then it is served.
 */
class TransferSlotsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(AtrnJames.atrnXmlWith("<maxParallelTransfers>1</maxParallelTransfers>"));

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
    void withOneSlotASecondDrainWaitsForTheFirstTransactionThenIsServed(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "customer.example", "alice@customer.example", Messages.simple("first", "alice@customer.example"));
        PORTS.park(server, "customer2.example", "carol@customer2.example", Messages.simple("second", "carol@customer2.example"));
        CountDownLatch atEnd = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CustomerServer holding = new CustomerServer((step, index, reply) -> {
            if (step.equals("END")) {
                atEnd.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Optional.of(reply);
        });
        CustomerServer waiting = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);

        CompletableFuture<Void> first = drain("customer.example", holding);
        assertThat(atEnd.await(30, SECONDS)).isTrue();
        CompletableFuture<Void> second = drain("customer2.example", waiting);
        try {
            await().atMost(10, SECONDS).until(() -> waiting.commands.stream().anyMatch(c -> c.startsWith("EHLO")));
            // the slot is taken: no transaction may start meanwhile
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> waiting.commands.stream().noneMatch(c -> c.startsWith("MAIL")));
        } finally {
            release.countDown();
        }

        first.get(30, SECONDS);
        second.get(30, SECONDS);
        assertThat(holding.received).hasSize(1);
        assertThat(waiting.received).hasSize(1);
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(10, SECONDS).until(() -> probe.count("customer.example") == 0 && probe.count("customer2.example") == 0);
    }
}
