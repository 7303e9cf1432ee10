package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;

/** Malformed and hostile input on the ODMR port: RFC reply codes, no leaks, the server keeps serving. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    // The fuzz below fails AUTH from 127.0.0.1 hundreds of times, and every test here connects from
    // there: the per-address AUTH limit (PolicyTest's subject) would refuse whichever tests run after it.
    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(AtrnJames.atrnXmlWith("<authFailuresPerAddress>0</authFailuresPerAddress>"));

    @AfterEach
    void emptyTheStore(GuiceJamesServer server) throws Exception {
        server.getProbe(ParkedProbe.class).clear("customer.example", "customer2.example", "other.example");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "ATRN ,", "ATRN customer.example,", "ATRN ,customer.example", "ATRN customer.example, customer2.example",
        "ATRN customer.example customer2.example", "ATRN [192.0.2.1]", "ATRN 192.0.2.1", "ATRN customer_example.com",
        "ATRN -customer.example", "ATRN customer-.example", "ATRN customer..example", "ATRN customer", "ATRN b\u00fccher.example",
        "ATRN customer.example;rm", "ATRN *"})
    void malformedAtrnArgumentsGet501AndTheSessionGoesOn(String command) throws Exception {
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command(command).get(0)).startsWith("501 5.5.4");
            assertThat(client.command("NOOP").get(0)).startsWith("250");
        }
    }

    @Test
    void tooManyDomainsGet501AndAThousandExceedTheLineLimit() throws Exception {
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            String many = IntStream.range(0, 101).mapToObj(i -> "d" + i + ".ex").collect(Collectors.joining(","));
            assertThat(client.command("ATRN " + many).get(0)).startsWith("501 5.5.4").contains("at most 100 domains");
            String thousand = IntStream.range(0, 1000).mapToObj(i -> "d" + i + ".example").collect(Collectors.joining(","));
            // over 8,192 bytes: James's framer answers RFC 5321's "500 line too long"
            assertThat(client.command("ATRN " + thousand).get(0)).startsWith("500");
            assertThat(client.command("NOOP").get(0)).startsWith("250");
        }
    }

    /**
     * RFC 2920: ATRN must be the last command of a group; lines sent behind it are answered after
     * its own reply, in order: held back and answered 503 when James read them before the ATRN
     * reply was ready, run as usual when it read them after.
     */
    @Test
    void commandsPipelinedBehindARefusedAtrnAreAnsweredAfterItInOrder() throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
                client.sendRaw("ATRN customer.example\r\nNOOP\r\nRSET\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(client.readReply().get(0)).as("attempt %d", attempt).isEqualTo("453 You have no mail");
                String noop = client.readReply().get(0);
                assertThat(noop).matches("250 .*|503 5\\.5\\.1 NOOP was pipelined behind ATRN.*");
                // once a line ran as usual, the connection was handed back: the next one runs too
                assertThat(client.readReply().get(0)).matches(noop.startsWith("250") ? "250 .*" : "250 .*|503 5\\.5\\.1 RSET was pipelined behind ATRN.*");
                // and the session is back to normal
                assertThat(client.command("NOOP").get(0)).startsWith("250");
                client.sendRaw("ATRN customer.example\r\nQUIT\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(client.readReply().get(0)).isEqualTo("453 You have no mail");
                assertThat(client.readReply().get(0)).startsWith("221");
                assertThat(client.closedByPeer()).isTrue();
            }
        }
    }

    @Test
    void anOverlongLineIsRefusedAndTheServerKeepsServing() throws Exception {
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            client.sendRaw(("ATRN " + "a".repeat(20_000) + ".example\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(client.readReply().get(0)).startsWith("500");
        }
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            assertThat(client.command("EHLO customer.example").get(0)).startsWith("250");
        }
    }

    @Test
    void anyOtherSpellingOfAnotherLoginsDomainIsRefused(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "other.example", "alice@other.example", Messages.simple("not-for-customer", "alice@other.example"));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            for (String spelling : List.of("other.example", "OTHER.EXAMPLE", "Other.Example.", "customer.example,other.example")) {
                assertThat(client.command("ATRN " + spelling).get(0)).as(spelling).startsWith("450");
            }
            // and a bare ATRN never includes it
            assertThat(client.command("ATRN").get(0)).isEqualTo("453 You have no mail");
        }
        assertThat(server.getProbe(ParkedProbe.class).count("other.example")).isEqualTo(1);
    }

    /** The sample's connectionLimitPerIP on the ODMR port: one address holds at most 10 connections. */
    @Test
    void oneAddressGetsAtMostTenConnectionsAtOnce() throws Exception {
        List<OdmrClient> greeted = new ArrayList<>();
        int refused = 0;
        try {
            for (int i = 0; i < 15; i++) {
                try {
                    greeted.add(new OdmrClient(PORTS.odmrPort, InetAddress.getByName("127.0.0.3")));
                } catch (EOFException | SocketException e) {
                    refused++;
                }
            }
            assertThat(greeted).hasSize(10);
            assertThat(refused).isEqualTo(5);
        } finally {
            for (OdmrClient client : greeted) {
                client.close();
            }
        }
        // the slots come back as connections close
        await().atMost(30, SECONDS).ignoreExceptions().until(() -> {
            try (OdmrClient client = new OdmrClient(PORTS.odmrPort, InetAddress.getByName("127.0.0.3"))) {
                return client.command("NOOP").get(0).startsWith("250");
            }
        });
    }

    @Test
    void commandsInTheWrongStateGetTheirRfcReplies() throws Exception {
        try (OdmrClient client = new OdmrClient(PORTS.odmrPort)) {
            assertThat(client.command("ATRN").get(0)).startsWith("530");
            assertThat(client.command("EHLO").get(0)).startsWith("501");
            client.command("EHLO customer.example");
            assertThat(OdmrClient.code(client.authCramMd5("customer", "customer-secret"))).isEqualTo("235");
            assertThat(client.command("AUTH PLAIN AGN1c3RvbWVyAGN1c3RvbWVyLXNlY3JldA==").get(0)).startsWith("503");
            assertThat(client.command("MAIL FROM:<a@b.example>").get(0)).startsWith("502");
            // STARTTLS after AUTH invites session fixation: refused (and James 3.8.1 then ends the session)
            assertThat(client.command("STARTTLS").get(0)).startsWith("501");
        }
    }

    /**
     * Bounded and seeded: the same 2,000 malformed sessions every run. Afterwards the port still
     * answers, and a normal ATRN drains everything that was parked. Last in the class: the
     * server closes these sessions at its own pace, and until it has they hold slots of
     * 127.0.0.1's connectionLimitPerIP (seen once in CI: the tests after it were refused). Another
     * source address would not do: James resolves each client's name on its event loop, and
     * 127.0.0.x addresses other than 127.0.0.1 have none here (2,000 sessions took 200 s).
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void fuzzedSessionsLeaveTheServerServingAndTheMailIntact(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "customer.example", "alice@customer.example", Messages.tricky("alice@customer.example"));
        byte[] parked = server.getProbe(ParkedProbe.class).all("customer.example").get(0).bytes();
        Random random = new Random(2645);
        List<String> verbs = List.of("EHLO", "HELO", "AUTH", "ATRN", "STARTTLS", "NOOP", "RSET", "MAIL", "DATA", "", "AUTH CRAM-MD5",
            "AUTH PLAIN", "AUTH LOGIN", "ATRN customer.example", "ATRN other.example", "*");

        for (int session = 0; session < 2000; session++) {
            try (Socket socket = new Socket("127.0.0.1", PORTS.odmrPort)) {
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                int commands = 1 + random.nextInt(4);
                StringBuilder script = new StringBuilder();
                for (int i = 0; i < commands; i++) {
                    script.append(verbs.get(random.nextInt(verbs.size())));
                    if (random.nextBoolean()) {
                        byte[] noise = new byte[random.nextInt(40)];
                        random.nextBytes(noise);
                        script.append(' ').append(new String(noise, StandardCharsets.ISO_8859_1).replace("\n", ""));
                    }
                    script.append("\r\n");
                }
                out.write(script.toString().getBytes(StandardCharsets.ISO_8859_1));
                if (random.nextInt(4) == 0) {
                    socket.shutdownOutput();
                }
                out.flush();
                in.read(); // at least the greeting; the rest of the replies are not our concern here
            } catch (IOException e) {
                // the server may close a session on garbage; that is an acceptable outcome
            }
        }

        await().atMost(30, SECONDS).ignoreExceptions().untilAsserted(() -> {
            CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
                assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
                client.serve(customer);
            }
            assertThat(customer.received).singleElement().satisfies(r -> assertThat(r.data()).isEqualTo(parked));
        });
        assertThat(server.getProbe(ParkedProbe.class).count("customer.example")).isZero();
    }
}
