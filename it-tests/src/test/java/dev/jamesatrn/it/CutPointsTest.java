package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * The customer hangs up at every point of the reversed session. Afterwards every message is
 * either still parked or delivered, none is lost, only the one in flight at the cut may arrive
 * twice, and the domain can be claimed again at once.
 */
class CutPointsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final int MESSAGES = 3;

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension();

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        server.getProbe(ParkedProbe.class).clear("customer.example");
    }

    /**
     * @param cut the step at which the customer hangs up while the second message is in flight:
     *            greeting and EHLO happen before any message
     */
    @ParameterizedTest
    @ValueSource(strings = {"greeting", "EHLO", "MAIL", "RCPT <alice@customer.example>", "DATA", "DATA-STREAM", "END"})
    void aHangUpAtAnyStepLosesNothing(String cut, GuiceJamesServer server) throws Exception {
        for (int i = 0; i < MESSAGES; i++) {
            PORTS.park(server, "customer.example", "alice@customer.example", Messages.simple("cut-" + i, "alice@customer.example"));
        }
        boolean beforeAnyMessage = cut.equals("greeting") || cut.equals("EHLO");
        CustomerServer cutting = new CustomerServer((step, index, reply) ->
            step.equals(cut) && (beforeAnyMessage || index == 1) ? Optional.empty() : Optional.of(reply));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
            try {
                client.serve(cutting);
            } catch (IOException e) {
                // the provider may already be gone
            }
        }
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        // James removes a delivered message while the customer already reads the next envelope:
        // the store settles just after the customer hangs up.
        await().atMost(10, SECONDS).untilAsserted(() ->
            assertThat(probe.count("customer.example")).isEqualTo(MESSAGES - cutting.received.size()));

        CustomerServer second = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
        await().atMost(10, SECONDS).untilAsserted(() -> {
            try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
                assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
                client.serve(second);
            }
        });

        List<CustomerServer.Received> everything = new ArrayList<>(cutting.received);
        everything.addAll(cutting.unacknowledged);
        everything.addAll(second.received);
        Map<String, Long> copies = everything.stream()
            .map(received -> Messages.subject(received.data()))
            .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(copies.keySet()).containsExactlyInAnyOrder("cut-0", "cut-1", "cut-2");
        assertThat(copies.values().stream().filter(count -> count > 1).count())
            .as("only the message in flight at the cut may arrive twice").isLessThanOrEqualTo(cut.equals("END") ? 1 : 0);
        assertThat(probe.count("customer.example")).isZero();
    }

}
