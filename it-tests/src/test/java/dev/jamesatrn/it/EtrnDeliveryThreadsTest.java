package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;
import dev.jamesatrn.testing.smtp.SilentServer;

/**
 * ETRN needs no AUTH, and each of its deliveries holds a thread for 30 s per unreachable address
 * or 5 minutes against a host that never greets. ATRN customers must keep their session threads
 * whatever strangers do with ETRN: here {@code maxConcurrentSessions} is 3, so ETRN gets the
 * default {@code maxEtrnDeliveries} of max(1, 3 / 4) = 1.
 */
class EtrnDeliveryThreadsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final SilentServer TARPIT = new SilentServer();
    private static final AtomicInteger CLIENT_ADDRESSES = new AtomicInteger();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(EtrnDeliveryThreadsTest::configure);

    private static void configure(Path workingDirectory) {
        StringBuilder domains = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            domains.append("<domain name=\"t").append(i).append(".tarpit.example\"><login>customer</login><etrnRelay>127.0.0.1:")
                .append(TARPIT.port()).append("</etrnRelay></domain>");
        }
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<domains>", domains.toString());
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<atrn>", "<maxConcurrentSessions>3</maxConcurrentSessions>");
    }

    @AfterAll
    static void stop() throws IOException {
        TARPIT.close();
    }

    /** An ETRN from an address of its own (127.0.x.y): the per-client limit plays no part here. */
    private static String etrn(String domain) throws IOException {
        int n = CLIENT_ADDRESSES.getAndIncrement();
        try (OdmrClient client = new OdmrClient(PORTS.inboundPort, InetAddress.getByName("127.0." + (1 + n / 250) + "." + (1 + n % 250)))) {
            client.command("EHLO somewhere.test");
            return client.command("ETRN " + domain).get(0);
        }
    }

    @Test
    void etrnDeliveriesStuckOnATarpitLeaveEveryAtrnSessionToCustomersAndQueueNothingPastTheirBound(GuiceJamesServer server)
            throws Exception {
        for (int i = 0; i < 3; i++) {
            PORTS.park(server, "t" + i + ".tarpit.example", "b@t" + i + ".tarpit.example",
                Messages.simple("tarpit-" + i, "b@t" + i + ".tarpit.example"));
        }
        PORTS.park(server, "customer.example", "paying@customer.example", Messages.simple("paying", "paying@customer.example"));

        assertThat(etrn("t0.tarpit.example")).isEqualTo("253 2.0.0 OK, 1 pending messages for node t0.tarpit.example started");
        // connected, and waiting for a greeting that never comes
        await().atMost(30, SECONDS).until(() -> TARPIT.accepted() == 1);
        assertThat(etrn("t1.tarpit.example"))
            .isEqualTo("458 4.3.2 Unable to queue messages for node t1.tarpit.example: too many ETRN deliveries at once; try again later");
        assertThat(etrn("t2.tarpit.example")).startsWith("458 4.3.2 ");

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            client.serve(customer);
            assertThat(customer.received).hasSize(1);
        }

        // Once the stuck delivery ends, a refused domain is free for ETRN: nothing was queued for it
        // (a queued one would get "458 4.3.0 ... is being delivered after an ETRN").
        TARPIT.hangUpAll();
        AtomicReference<String> reply = new AtomicReference<>();
        await().atMost(60, SECONDS).pollInterval(200, MILLISECONDS).until(() -> {
            reply.set(etrn("t1.tarpit.example"));
            return !reply.get().startsWith("458 4.3.2 ");
        });
        assertThat(reply.get()).isEqualTo("253 2.0.0 OK, 1 pending messages for node t1.tarpit.example started");
    }
}
