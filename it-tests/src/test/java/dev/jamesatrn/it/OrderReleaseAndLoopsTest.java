package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * The order in which parked mail goes out, when a domain of a multi-domain ATRN is free again,
 * and what happens to mail that went round in a loop (config-samples as shipped).
 */
class OrderReleaseAndLoopsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final String RELAY_LIMIT_REPOSITORY = "file://var/mail/relay-limit/";

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(workingDirectory -> {
        String park = "<mailet match=\"dev.jamesatrn.mailets.RecipientIsAtrnDomain\"";
        JamesLayout.replace(workingDirectory, "mailetcontainer.xml", park, HeldInSpool.mailetXml() + park);
    });

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        server.getProbe(ParkedProbe.class).clear("customer.example", "customer2.example", "other.example");
    }

    /**
     * James's spooler parks mail on several threads at once, so parking order is not arrival
     * order (here the first message is held in the spool until the others are parked, as a slow
     * mailet would); and keys made in the same millisecond must not sort at random.
     */
    @Test
    void messagesSentInOrderOnOneConnectionAreDeliveredInThatOrder(GuiceJamesServer server) throws Exception {
        List<String> subjects = IntStream.range(0, 10).mapToObj(i -> "in-order-" + i).toList();
        List<byte[]> messages = new ArrayList<>(subjects.stream().map(subject -> Messages.simple(subject, "alice@customer.example")).toList());
        messages.set(0, withHeader(HeldInSpool.HEADER + ": yes", messages.get(0)));
        HeldInSpool.release = new CountDownLatch(1);
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        try {
            List<String> replies = Inbound.sendOnOneConnection(PORTS.inboundPort, "sender@sender.test", "alice@customer.example",
                messages);
            assertThat(replies).allMatch(reply -> reply.startsWith("250"));
            await().atMost(30, SECONDS).until(() -> probe.count("customer.example") == subjects.size() - 1);
            assertThat(probe.all("customer.example")).noneMatch(parked -> Messages.subject(parked.bytes()).equals("in-order-0"));
        } finally {
            HeldInSpool.release.countDown();
        }
        await().atMost(30, SECONDS).until(() -> probe.count("customer.example") == subjects.size());
        // stamped as James accepted them (ReceiptOrderHook), not placed by the time James created
        // the mail, which ties within a millisecond (ParkedNames: ".999")
        assertThat(probe.keys("customer.example")).noneMatch(key -> key.matches("atrn-\\d{13}\\.999-.*"));

        CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).extracting(received -> Messages.subject(received.data())).containsExactlyElementsOf(subjects);
    }

    private static byte[] withHeader(String header, byte[] message) {
        return (header + "\r\n" + new String(message, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * RFC 2645 claims every listed domain before the 250; once a domain's mail is all delivered,
     * its customer (or another drainer) must not wait for the session's other domains.
     */
    @Test
    void aMultiDomainAtrnGivesEachDomainBackOnceItIsDrained(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "customer.example", "alice@customer.example", Messages.simple("first-domain", "alice@customer.example"));
        PORTS.park(server, "customer2.example", "carol@customer2.example", Messages.simple("second-domain", "carol@customer2.example"));
        CountDownLatch atSecondEnd = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CustomerServer customer = CustomerServer.stoppingAt("END", 1, atSecondEnd, release);
        CompletableFuture<Void> session = CompletableFuture.runAsync(() -> {
            try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
                assertThat(client.command("ATRN customer.example,customer2.example").get(0)).startsWith("250");
                client.serve(customer);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        try {
            assertThat(atSecondEnd.await(30, SECONDS)).isTrue();
            try (OdmrClient other = PORTS.authenticated("customer", "customer-secret")) {
                // drained and free: "no mail", not "being delivered by another ODMR session"
                assertThat(other.command("ATRN customer.example").get(0)).isEqualTo("453 You have no mail");
                assertThat(other.command("ATRN customer2.example").get(0)).startsWith("451 4.3.0 customer2.example is being delivered");
            }
        } finally {
            release.countDown();
        }

        session.get(30, SECONDS);
        assertThat(customer.received).extracting(received -> Messages.subject(received.data()))
            .containsExactly("first-domain", "second-domain");
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(10, SECONDS).until(() -> probe.count("customer.example") == 0 && probe.count("customer2.example") == 0);
    }

    /**
     * A message that has been relayed 30 times or more is refused at end of DATA (HopCountHook),
     * as Postfix and Exim do: anyone can forge MAIL FROM and add Received headers, so the
     * relay-limit processor's DSN would be backscatter and its repository could be filled. James's
     * own Received header counts, as it does for RelayLimit=30: 29 forged ones are refused,
     * 28 are not.
     */
    @Test
    void mailOverTheRelayLimitIsRefusedAtEndOfData(GuiceJamesServer server) throws Exception {
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        long keptBefore = probe.countAt(RELAY_LIMIT_REPOSITORY);

        // The sender is in an ATRN domain, so a DSN would be parked where the test can read it.
        List<String> replies = Inbound.send(PORTS.inboundPort, "looper@customer2.example", List.of("alice@customer.example"),
            withReceivedHeaders(30, "looping"));
        assertThat(replies.get(replies.size() - 1))
            .isEqualTo("554 5.4.6 Too many hops (31 Received headers): this looks like a mail loop");
        List<String> atTheLimit = Inbound.send(PORTS.inboundPort, "looper@customer2.example", List.of("alice@customer.example"),
            withReceivedHeaders(29, "at-the-limit"));
        assertThat(atTheLimit.get(atTheLimit.size() - 1))
            .isEqualTo("554 5.4.6 Too many hops (30 Received headers): this looks like a mail loop");
        List<String> belowTheLimit = Inbound.send(PORTS.inboundPort, "looper@customer2.example", List.of("alice@customer.example"),
            withReceivedHeaders(28, "below-the-limit"));
        assertThat(belowTheLimit.get(belowTheLimit.size() - 1)).startsWith("250");

        // The message below the limit is parked; once it is, the refused ones would have been too.
        await().atMost(30, SECONDS).until(() -> probe.count("customer.example") == 1);
        assertThat(probe.all("customer.example")).extracting(parked -> Messages.subject(parked.bytes()))
            .containsExactly("below-the-limit");
        assertThat(probe.countAt(RELAY_LIMIT_REPOSITORY)).isEqualTo(keptBefore);
        assertThat(probe.count("customer2.example")).isZero();
    }

    private static byte[] withReceivedHeaders(int count, String subject) {
        StringBuilder hops = new StringBuilder();
        for (int i = 0; i < count; i++) {
            hops.append("Received: from hop").append(i).append(".example by hop").append(i + 1)
                .append(".example with ESMTP; Mon, 1 Jan 2024 00:00:00 +0000\r\n");
        }
        return (hops + new String(Messages.simple(subject, "alice@customer.example"), StandardCharsets.US_ASCII))
            .getBytes(StandardCharsets.US_ASCII);
    }
}
