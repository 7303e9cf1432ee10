package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.core.Domain;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.dnsservice.api.InMemoryDNSService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.drain.EtrnDelivery;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesMetrics;
import dev.jamesatrn.testing.james.LogCapture;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;
import dev.jamesatrn.testing.smtp.SilentServer;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * ETRN as an attacker (or a misconfigured network) would use it: delivery that leads back to this
 * James or to another node of its cluster (through every address of a relay, or one of two),
 * copies that come back while a drain runs (and, for ATRN, copies that only look alike: one
 * message for two domains, a list post per subscriber), a claim
 * store failing half-way through an {@code ETRN @suffix}, a relay that never answers while ATRN
 * customers wait, and one client sending ETRN after ETRN. Settings are the shipped defaults,
 * except for a fixed hello name on the inbound port and one cluster sibling in ownHostNames.
 * The DNS is in memory: {@value #TWO_ADDRESSES} has two addresses, the first of which leads
 * back to this James (NAT), the second the customer's own host.
 */
class EtrnLoopsAndAbuseTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final LogCapture DELIVERY_LOG = new LogCapture(EtrnDelivery.class.getName());
    private static final String TWO_ADDRESSES = "two-addresses.relay.test";
    private static final InetSocketAddress NAT_TO_THIS_JAMES = new InetSocketAddress("127.0.0.4", AtrnJames.freePort());
    private static final InetSocketAddress CUSTOMER_HOST = new InetSocketAddress("127.0.0.3", NAT_TO_THIS_JAMES.getPort());

    /** An MTA that, once, sends the message it receives straight back to James before its 250. */
    private static final Reflector REFLECTOR = new Reflector();
    private static final CustomerServer REFLECTING_CUSTOMER = new CustomerServer(REFLECTOR);
    private static final SmtpSink REFLECTING_SINK = sink(REFLECTING_CUSTOMER);
    private static final SmtpSink SINK = sink(new CustomerServer(CustomerServer.Script.ACCEPT_ALL));
    private static final SilentServer SILENT = new SilentServer();
    /** Another node of this James cluster: it greets with its own name, listed in ownHostNames. */
    private static final CustomerServer SIBLING = new CustomerServer((step, index, reply) ->
        Optional.of(step.equals("greeting") ? "220 mx2.provider.test ESMTP ready" : reply));
    private static final SmtpSink SIBLING_SINK = sink(SIBLING);
    private static final String INBOUND_HELLO_NAME = "inbound.provider.test";

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(EtrnLoopsAndAbuseTest::configure,
        binder -> binder.bind(DNSService.class).toInstance(dns()));

    private static InMemoryDNSService dns() {
        return new InMemoryDNSService()
            .registerRecord("localhost", InetAddress.getLoopbackAddress(), "localhost")
            .registerRecord(TWO_ADDRESSES, List.of(NAT_TO_THIS_JAMES.getAddress(), CUSTOMER_HOST.getAddress()), List.of(), List.of());
    }

    private static SmtpSink sink(CustomerServer customer) {
        try {
            return new SmtpSink(customer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String domain(String name, int relayPort) {
        return "<domain name=\"" + name + "\"><login>customer</login><etrnRelay>127.0.0.1:" + relayPort + "</etrnRelay></domain>";
    }

    private static void configure(Path workingDirectory) {
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<domains>",
            // James's own inbound port, reached through a relay address the operator trusts:
            // only the peer's greeting and EHLO can tell that it is this server.
            domain("loop.self.example", PORTS.inboundPort)
            + domain("sibling.loop.example", SIBLING_SINK.port())
            + domain("back.etrn.example", REFLECTING_SINK.port())
            + "<domain name=\"back.atrn.example\"><login>customer</login></domain>"
            + domain("h1.hostage.example", SILENT.port())
            + domain("h2.hostage.example", SILENT.port())
            + domain("a.leak.example", SINK.port())
            + domain("b.leak.example", SINK.port())
            + domain("c.leak.example", SINK.port())
            + "<domain name=\"two.addresses.example\"><login>customer</login><etrnRelay>" + TWO_ADDRESSES + ":"
            + NAT_TO_THIS_JAMES.getPort() + "</etrnRelay></domain>"
            + "<domain name=\"a.meanwhile.example\"><login>customer</login></domain>"
            + "<domain name=\"b.meanwhile.example\"><login>customer</login></domain>"
            + "<domain name=\"verp.meanwhile.example\"><login>customer</login></domain>");
        JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<atrn>", "<ownHostNames>mx2.provider.test</ownHostNames>");
        // Not the ODMR port's (autodetected) name: the loop check must know every server's name.
        JamesLayout.insertAfter(workingDirectory, "smtpserver.xml", "<jmxName>smtpserver-global</jmxName>",
            "<helloName autodetect=\"false\">" + INBOUND_HELLO_NAME + "</helloName>");
        JamesLayout.insertAfter(workingDirectory, "extensions.properties", "dev.jamesatrn.extension.AtrnModule",
            "," + FlakyDomainClaims.Module.class.getName());
    }

    @BeforeAll
    static void captureDeliveryLog() {
        DELIVERY_LOG.start();
    }

    @AfterAll
    static void stop() throws IOException {
        DELIVERY_LOG.stop();
        REFLECTING_SINK.close();
        SIBLING_SINK.close();
        SINK.close();
        SILENT.close();
    }

    private static boolean logged(String text) {
        return DELIVERY_LOG.lines().stream().anyMatch(line -> line.contains(text));
    }

    private static OdmrClient clientFrom(String localAddress) throws IOException {
        return clientFrom(localAddress, PORTS.inboundPort);
    }

    private static OdmrClient clientFrom(String localAddress, int port) throws IOException {
        OdmrClient client = new OdmrClient(port, InetAddress.getByName(localAddress));
        client.command("EHLO somewhere.test");
        return client;
    }

    private static ParkedProbe probe(GuiceJamesServer server) {
        return server.getProbe(ParkedProbe.class);
    }

    /**
     * James times every matcher and mailet under its class name: RelayLimit sees every mail that
     * enters the mailet container, Null every mail it destroys (RelayLimit=30 sends looping mail there).
     */
    private static double runs(GuiceJamesServer server, String matcherOrMailet) throws Exception {
        return JamesMetrics.value(JamesMetrics.scrape(server), matcherOrMailet + "_count").orElse(0.0);
    }

    @Test
    void etrnDeliveryLeadingBackToThisServerIsRefusedAndTheMailStaysParkedOnce(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "loop.self.example", "z@loop.self.example", Messages.simple("loop-self", "z@loop.self.example"));
        List<String> keys = probe(server).keys("loop.self.example");
        double relayLimitRuns = runs(server, "RelayLimit");
        double nullRuns = runs(server, "Null");

        // On the ODMR port: its drain says EHLO with that port's name, the inbound port answers with its own.
        try (OdmrClient client = clientFrom("127.0.0.2", PORTS.odmrPort)) {
            assertThat(client.command("ETRN loop.self.example").get(0))
                .isEqualTo("253 2.0.0 OK, 1 pending messages for node loop.self.example started");
            await().atMost(30, SECONDS).until(() -> logged("mail for loop.self.example loops back to myself"));
            // Once seen, the loop is answered at once, with the fix.
            assertThat(client.command("ETRN loop.self.example").get(0)).startsWith(
                "458 4.4.6 Unable to queue messages for node loop.self.example: mail for loop.self.example loops back to myself")
                .contains("<etrnRelay>").contains("conf/atrn.xml");
        }

        assertThat(probe(server).keys("loop.self.example")).as("the one parked copy, untouched").isEqualTo(keys);
        assertThat(runs(server, "RelayLimit")).as("no copy came back into James").isEqualTo(relayLimitRuns);
        assertThat(runs(server, "Null")).as("nothing was destroyed by RelayLimit's Null").isEqualTo(nullRuns);
    }

    @Test
    void aPeerGreetingWithTheNameOfAnotherNodeOfThisClusterGetsNothing(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "sibling.loop.example", "y@sibling.loop.example", Messages.simple("loop-sibling", "y@sibling.loop.example"));
        List<String> keys = probe(server).keys("sibling.loop.example");

        try (OdmrClient client = clientFrom("127.0.0.6")) {
            assertThat(client.command("ETRN sibling.loop.example").get(0)).startsWith("253 ");
            await().atMost(30, SECONDS).until(() -> logged("mail for sibling.loop.example loops back to myself"));
            assertThat(client.command("ETRN sibling.loop.example").get(0)).startsWith("458 4.4.6 ");
        }

        assertThat(SIBLING.commands).as("QUIT right after the greeting").containsExactly("QUIT");
        assertThat(SIBLING.received).isEmpty();
        assertThat(probe(server).keys("sibling.loop.example")).isEqualTo(keys);
    }

    /**
     * Anyone may send ETRN while the customer's host is down: the first address of the relay name
     * then leads back to this James and the second refuses connections. When the customer's host
     * is up, its own ETRN must go out to it, skipping only the address known to loop.
     */
    @Test
    void aLoopThroughOneAddressOfTheRelayDoesNotKeepTheCustomerFromItsMailThroughAnother(GuiceJamesServer server)
            throws Exception {
        PORTS.park(server, "two.addresses.example", "s@two.addresses.example", Messages.simple("two-addresses", "s@two.addresses.example"));

        try (Forwarder nat = new Forwarder(NAT_TO_THIS_JAMES, PORTS.inboundPort)) {
            try (OdmrClient stranger = clientFrom("127.0.0.11")) {
                assertThat(stranger.command("ETRN two.addresses.example").get(0)).startsWith("253 ");
            }
            // the end of that delivery: nothing was sent
            await().atMost(60, SECONDS).until(() -> logged("ETRN delivery of two.addresses.example: "));
            assertThat(nat.accepted()).isEqualTo(1);

            CustomerServer customerMta = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            try (SmtpSink customerHost = new SmtpSink(CUSTOMER_HOST, customerMta);
                 OdmrClient customer = clientFrom("127.0.0.12")) {
                assertThat(customer.command("ETRN two.addresses.example").get(0))
                    .isEqualTo("253 2.0.0 OK, 1 pending messages for node two.addresses.example started");
                await().atMost(60, SECONDS).until(() -> customerMta.received.size() == 1);
                await().atMost(30, SECONDS).until(() -> probe(server).count("two.addresses.example") == 0);
            }
            assertThat(nat.accepted()).as("the address known to loop was not tried again").isEqualTo(1);
        }
        assertThat(DELIVERY_LOG.lines()).anyMatch(line -> line.startsWith("ETRN target " + NAT_TO_THIS_JAMES.getAddress().getHostAddress()
            + ":" + NAT_TO_THIS_JAMES.getPort() + " of two.addresses.example leads back to this server"));
    }

    @Test
    void aCopyThatComesBackDuringAnEtrnDrainIsNotDeliveredAgainInIt(GuiceJamesServer server) throws Exception {
        REFLECTOR.arm(server, "back.etrn.example", "w@back.etrn.example", "back-etrn");
        PORTS.park(server, "back.etrn.example", "w@back.etrn.example", Messages.simple("back-etrn", "w@back.etrn.example"));
        List<String> original = probe(server).keys("back.etrn.example");

        try (OdmrClient client = clientFrom("127.0.0.3")) {
            assertThat(client.command("ETRN back.etrn.example").get(0)).startsWith("253 ");
        }

        await().atMost(30, SECONDS).until(() -> logged("ETRN delivery domain=back.etrn.example"));
        assertThat(REFLECTING_CUSTOMER.received).as("delivered once, never its returned copy").hasSize(1);
        List<String> parked = probe(server).keys("back.etrn.example");
        assertThat(parked).as("the returned copy waits for the next ETRN").hasSize(1).doesNotContainAnyElementsOf(original);
    }

    @Test
    void aCopyThatComesBackDuringAnAtrnSessionIsNotDeliveredAgainInIt(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "back.atrn.example", "v@back.atrn.example", Messages.simple("back-atrn", "v@back.atrn.example"));
        Reflector reflector = new Reflector();
        reflector.arm(server, "back.atrn.example", "v@back.atrn.example", "back-atrn");
        CustomerServer customer = new CustomerServer(reflector);

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN back.atrn.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).as("delivered once, never its returned copy").hasSize(1);
        assertThat(probe(server).count("back.atrn.example")).as("the returned copy waits for the next ATRN").isEqualTo(1);
    }

    /**
     * One message to x@a.meanwhile.example and y@b.meanwhile.example arrives while the customer's
     * ATRN for both domains runs: each domain's copy has the same Message-ID, and each is owed.
     */
    @Test
    void aMessageForTwoDomainsArrivingDuringTheirAtrnSessionReachesBothInIt(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "a.meanwhile.example", "a@a.meanwhile.example", Messages.simple("meanwhile-old-a", "a@a.meanwhile.example"));
        PORTS.park(server, "b.meanwhile.example", "b@b.meanwhile.example", Messages.simple("meanwhile-old-b", "b@b.meanwhile.example"));
        CustomerServer customer = new CustomerServer(new ArrivingMeanwhile(server, "list@lists.test",
            List.of(List.of("x@a.meanwhile.example", "y@b.meanwhile.example")), "meanwhile-two-domains"));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN a.meanwhile.example,b.meanwhile.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).extracting(received -> String.join(",", received.rcptTo()))
            .containsExactlyInAnyOrder("<a@a.meanwhile.example>", "<b@b.meanwhile.example>", "<x@a.meanwhile.example>",
                "<y@b.meanwhile.example>");
        assertThat(probe(server).count("a.meanwhile.example")).isZero();
        assertThat(probe(server).count("b.meanwhile.example")).isZero();
    }

    /** A VERP mailing list: one transaction per subscriber, the same Message-ID in each. */
    @Test
    void aListPostSentOncePerSubscriberDuringAnAtrnSessionReachesEverySubscriberInIt(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "verp.meanwhile.example", "a@verp.meanwhile.example", Messages.simple("verp-old", "a@verp.meanwhile.example"));
        CustomerServer customer = new CustomerServer(new ArrivingMeanwhile(server, "list@lists.test",
            List.of(List.of("s1@verp.meanwhile.example"), List.of("s2@verp.meanwhile.example"), List.of("s3@verp.meanwhile.example")),
            "verp-post"));

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN verp.meanwhile.example").get(0)).startsWith("250");
            client.serve(customer);
        }

        assertThat(customer.received).extracting(received -> String.join(",", received.rcptTo()))
            .containsExactlyInAnyOrder("<a@verp.meanwhile.example>", "<s1@verp.meanwhile.example>", "<s2@verp.meanwhile.example>",
                "<s3@verp.meanwhile.example>");
        assertThat(probe(server).count("verp.meanwhile.example")).isZero();
    }

    @Test
    void aClaimStoreFailingOnTheSecondDomainLeavesNoDomainClaimed(GuiceJamesServer server) throws Exception {
        for (String domain : List.of("a.leak.example", "b.leak.example", "c.leak.example")) {
            PORTS.park(server, domain, "u@" + domain, Messages.simple("leak-" + domain, "u@" + domain));
        }

        String reply;
        try (OdmrClient client = clientFrom("127.0.0.4")) {
            reply = client.command("ETRN @leak.example").get(0);
        }

        FlakyDomainClaims claims = FlakyDomainClaims.instance();
        await().atMost(30, SECONDS).until(() -> claims.ownerOf(Domain.of("a.leak.example")).isEmpty()
            && claims.ownerOf(Domain.of("c.leak.example")).isEmpty());
        assertThat(reply).isEqualTo("253 2.0.0 OK, 2 pending messages for node @leak.example started");
        await().atMost(30, SECONDS).until(() -> probe(server).count("a.leak.example") == 0 && probe(server).count("c.leak.example") == 0);
        assertThat(probe(server).count("b.leak.example")).isEqualTo(1);

        // ATRN over a healthy and the failing domain: 451, and the healthy one is free again at once.
        PORTS.park(server, "a.leak.example", "u@a.leak.example", Messages.simple("leak-again", "u@a.leak.example"));
        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN a.leak.example,b.leak.example").get(0)).startsWith("451 4.3.0 ");
            assertThat(claims.ownerOf(Domain.of("a.leak.example"))).isEmpty();
            assertThat(client.command("ATRN a.leak.example").get(0)).startsWith("250");
            CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            client.serve(customer);
            assertThat(customer.received).hasSize(1);
        }
    }

    @Test
    void anEtrnWaitingForASilentRelayHoldsNoDomainAtrnCustomersNeed(GuiceJamesServer server) throws Exception {
        PORTS.park(server, "h1.hostage.example", "t@h1.hostage.example", Messages.simple("hostage-1", "t@h1.hostage.example"));
        PORTS.park(server, "h2.hostage.example", "t@h2.hostage.example", Messages.simple("hostage-2", "t@h2.hostage.example"));
        int connectionsBefore = SILENT.accepted();

        try (OdmrClient client = clientFrom("127.0.0.5")) {
            assertThat(client.command("ETRN @hostage.example").get(0))
                .isEqualTo("253 2.0.0 OK, 2 pending messages for node @hostage.example started");
        }
        // The ETRN delivery is connected and waits for a greeting that never comes (5 minutes by default).
        await().atMost(30, SECONDS).until(() -> SILENT.accepted() > connectionsBefore);

        try (OdmrClient client = PORTS.authenticated("customer", "customer-secret")) {
            assertThat(client.command("ATRN h1.hostage.example,h2.hostage.example").get(0)).startsWith("250");
            CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            client.serve(customer);
            assertThat(customer.received).hasSize(2);
        } finally {
            SILENT.hangUpAll();
        }
    }

    @Test
    void oneClientGetsTenEtrnAMinuteAndTheNextIsRefusedWhileOthersAreServed() throws Exception {
        try (OdmrClient client = clientFrom("127.0.0.9")) {
            for (int i = 0; i < 10; i++) {
                assertThat(client.command("ETRN customer2.example").get(0)).as("ETRN %d", i + 1)
                    .isEqualTo("251 2.0.0 OK, no messages waiting for node customer2.example");
            }
            assertThat(client.command("ETRN customer2.example").get(0))
                .matches("458 4\\.7\\.0 Unable to queue messages for node customer2\\.example: too many ETRN requests "
                    + "from this client \\(at most 10 in 60 s\\); try again in \\d+ s");
        }
        try (OdmrClient other = clientFrom("127.0.0.10")) {
            assertThat(other.command("ETRN customer2.example").get(0)).startsWith("251 ");
        }
    }

    /**
     * A customer MTA relaying back to its provider: the first message it gets is sent to James
     * again, and only once James has parked that copy does it answer the end of data.
     */
    private static final class Reflector implements CustomerServer.Script {
        private final AtomicBoolean armed = new AtomicBoolean();
        private volatile GuiceJamesServer server;
        private volatile String domain;
        private volatile String rcpt;
        private volatile String subject;

        void arm(GuiceJamesServer jamesServer, String parkedDomain, String recipient, String messageSubject) {
            server = jamesServer;
            domain = parkedDomain;
            rcpt = recipient;
            subject = messageSubject;
            armed.set(true);
        }

        @Override
        public Optional<String> reply(String step, int messageIndex, String defaultReply) {
            if (step.equals("END") && armed.compareAndSet(true, false)) {
                try {
                    ParkedProbe probe = server.getProbe(ParkedProbe.class);
                    long before = probe.count(domain);
                    // the same bytes, so the same Message-ID, as an MTA relaying it would send
                    List<String> replies = Inbound.send(PORTS.inboundPort, "sender@sender.test", List.of(rcpt),
                        Messages.simple(subject, rcpt));
                    assertThat(replies.get(replies.size() - 1)).startsWith("250");
                    await().atMost(30, SECONDS).until(() -> probe.count(domain) == before + 1);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            return Optional.of(defaultReply);
        }
    }

    /**
     * A customer MTA during whose first end of data new mail arrives for its domains: each
     * transaction of {@code transactions} is sent to James (the same bytes, so the same
     * Message-ID), and the 250 waits until James has parked every copy.
     */
    private static final class ArrivingMeanwhile implements CustomerServer.Script {
        private final AtomicBoolean armed = new AtomicBoolean(true);
        private final GuiceJamesServer server;
        private final String sender;
        private final List<List<String>> transactions;
        private final String subject;

        ArrivingMeanwhile(GuiceJamesServer server, String sender, List<List<String>> transactions, String subject) {
            this.server = server;
            this.sender = sender;
            this.transactions = transactions;
            this.subject = subject;
        }

        @Override
        public Optional<String> reply(String step, int messageIndex, String defaultReply) {
            if (step.equals("END") && armed.compareAndSet(true, false)) {
                try {
                    ParkedProbe probe = server.getProbe(ParkedProbe.class);
                    Map<String, Long> expected = new HashMap<>();
                    for (List<String> recipients : transactions) {
                        for (String domain : recipients.stream().map(r -> r.substring(r.indexOf('@') + 1)).distinct().toList()) {
                            long parked = expected.containsKey(domain) ? expected.get(domain) : probe.count(domain);
                            expected.put(domain, parked + 1);
                        }
                    }
                    for (List<String> recipients : transactions) {
                        List<String> replies = Inbound.send(PORTS.inboundPort, sender, recipients, Messages.simple(subject, recipients.get(0)));
                        assertThat(replies.get(replies.size() - 1)).startsWith("250");
                    }
                    for (Map.Entry<String, Long> entry : expected.entrySet()) {
                        await().atMost(30, SECONDS).until(() -> probe.count(entry.getKey()) == entry.getValue());
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            return Optional.of(defaultReply);
        }
    }

    /** A NAT rule (or load balancer) in front of this James: every connection goes on to {@code target}. */
    private static final class Forwarder implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final AtomicInteger accepted = new AtomicInteger();

        Forwarder(InetSocketAddress at, int target) throws IOException {
            server = new ServerSocket();
            server.bind(at);
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket in = server.accept();
                        accepted.incrementAndGet();
                        Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
                        sockets.add(in);
                        sockets.add(out);
                        pump(in.getInputStream(), out.getOutputStream());
                        pump(out.getInputStream(), in.getOutputStream());
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "nat-forwarder");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int accepted() {
            return accepted.get();
        }

        private static void pump(InputStream in, OutputStream out) {
            Thread pump = new Thread(() -> {
                try (in; out) {
                    in.transferTo(out);
                } catch (IOException e) {
                    // one side closed: the other follows
                }
            }, "nat-pump");
            pump.setDaemon(true);
            pump.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }
}
