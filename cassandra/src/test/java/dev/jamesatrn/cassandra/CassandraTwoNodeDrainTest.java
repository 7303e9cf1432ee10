package dev.jamesatrn.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

import javax.mail.Session;
import javax.mail.internet.MimeMessage;

import org.apache.commons.configuration2.XMLConfiguration;
import org.apache.commons.configuration2.io.FileHandler;
import org.apache.james.blob.api.BlobStore;
import org.apache.james.blob.api.HashBlobId;
import org.apache.james.blob.memory.MemoryBlobStoreFactory;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.cassandra.MailRepositoryTable;
import org.apache.james.mailrepository.cassandra.MailRepositoryTableV2;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.base.test.FakeMailContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.datastax.oss.driver.api.core.CqlSession;

import dev.jamesatrn.claims.DomainClaimStore;
import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.drain.ParkedMailClient;
import dev.jamesatrn.smtp.OutboundConnection;
import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.store.ParkedMailStore;
import dev.jamesatrn.store.ParkedNames;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * Two James nodes of one distributed app in one JVM: each has its own Cassandra session, its own
 * {@link ParkedMailStore} over James's {@code CassandraMailRepository} and its own
 * {@link DomainLeases} (distinct node names) over {@link CassandraDomainClaims}; they share the
 * keyspace, the claim table and the blob store, as nodes share Cassandra and S3. Both deliver to
 * one customer MTA that counts what it acknowledged.
 *
 * <p>Each node delivers over a new outbound connection (the ETRN path of
 * {@link ParkedMailClient}); an ATRN session differs only in whose socket carries the SMTP.
 */
class CassandraTwoNodeDrainTest {
    private static final Domain CUSTOMER = Domain.of("customer.example");
    private static final String CASSANDRA_PREFIX = "cassandra://var/mail/atrn/";

    private static CqlSession schemaSession;
    private static AtrnConfiguration configuration;

    private final List<CqlSession> sessions = new ArrayList<>();
    private final List<DomainLeases> renewers = new ArrayList<>();
    private final ScheduledExecutorService watchdog = Executors.newScheduledThreadPool(2);
    private BlobStore sharedBlobs;

    @BeforeAll
    static void schema() throws Exception {
        schemaSession = EmbeddedCassandra.get().session();
        CassandraMailRepositories.createSchema(schemaSession);
        CassandraDomainClaims.createTableIfMissing(schemaSession);
        configuration = shippedConfigurationOnCassandra();
    }

    @AfterAll
    static void closeSchemaSession() {
        if (schemaSession != null) {
            schemaSession.close();
        }
    }

    @BeforeEach
    void emptyStore() {
        // S3 of the distributed app, shared by both nodes. Blobs of an earlier test are left
        // behind with its repository rows below, which this test removes.
        sharedBlobs = MemoryBlobStoreFactory.builder().blobIdFactory(new HashBlobId.Factory()).defaultBucketName().passthrough();
        schemaSession.execute("TRUNCATE " + CassandraDomainClaims.TABLE);
        schemaSession.execute("TRUNCATE " + MailRepositoryTable.KEYS_TABLE_NAME);
        schemaSession.execute("TRUNCATE " + MailRepositoryTableV2.CONTENT_TABLE_NAME);
    }

    @AfterEach
    void closeNodes() {
        renewers.forEach(DomainLeases::stop);
        watchdog.shutdownNow();
        sessions.forEach(CqlSession::close);
    }

    @Test
    void twoNodesRacingForOneDomainDeliverEveryMessageExactlyOnce() throws Exception {
        // Leases shorter than one session: each drain lives on its renewals.
        Node nodeA = node("node-a", Duration.ofSeconds(2), Function.identity());
        Node nodeB = node("node-b", Duration.ofSeconds(2), Function.identity());
        List<String> parked = park(nodeA, 40);
        // The customer hangs up after 15 messages (and comes back through either node); each
        // end-of-data takes it 60 ms, so one session outlasts the lease.
        try (SmtpSink customer = customerMta(Duration.ofMillis(60), 15)) {
            CompletableFuture<Sessions> a = CompletableFuture.supplyAsync(() -> nodeA.drainUntilEmpty(customer));
            CompletableFuture<Sessions> b = CompletableFuture.supplyAsync(() -> nodeB.drainUntilEmpty(customer));
            Sessions byA = a.get(90, TimeUnit.SECONDS);
            Sessions byB = b.get(90, TimeUnit.SECONDS);
            System.out.printf("two nodes racing: node-a %s, node-b %s%n", byA, byB);

            assertThat(deliveries(customer)).containsOnlyKeys(parked).allSatisfy((id, times) -> assertThat(times).isOne());
            assertThat(nodeA.store.count(CUSTOMER)).isZero();
            // The claim did exclude someone: one node was refused while the other drained.
            assertThat(byA.refused() + byB.refused()).isPositive();
            // No drain ever ran on a lapsed claim: renewals kept every lease.
            assertThat(byA.lostClaim() + byB.lostClaim()).isZero();
        }
    }

    @Test
    void aLeaseLapsingMidDrainLosesNothingAndDuplicatesAtMostTheMessageInFlight() throws Exception {
        PartitionedClaims cutOffFromCassandra = new PartitionedClaims();
        Node nodeA = node("node-a", Duration.ofSeconds(2), store -> cutOffFromCassandra.over(store));
        Node nodeB = node("node-b", Duration.ofSeconds(2), Function.identity());
        List<String> parked = park(nodeA, 30);
        try (SmtpSink customer = customerMta(Duration.ofMillis(150), Integer.MAX_VALUE)) {
            DomainLeases.DomainLease leaseA = nodeA.leases.claimAll(List.of(CUSTOMER), DomainLeases.Purpose.ATRN, "1").orElseThrow();
            CompletableFuture<ParkedMailClient.Outcome> drainA = CompletableFuture.supplyAsync(() -> nodeA.drain(leaseA, customer));

            await().atMost(Duration.ofSeconds(30)).until(() -> customer.received().size() >= 5);
            // Node A loses its way to the claim table mid-drain: its renewals fail and its row's TTL
            // runs out. Its mail store still works, the harder case: nothing but the lease stops it.
            cutOffFromCassandra.cut();
            // The customer, cut off too, comes back through node B and retries until the domain is free.
            DomainLeases.DomainLease leaseB = await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .until(() -> nodeB.leases.claimAll(List.of(CUSTOMER), DomainLeases.Purpose.ATRN, "2"), Optional::isPresent)
                .orElseThrow();
            ParkedMailClient.Outcome outcomeA = drainA.get(30, TimeUnit.SECONDS);
            ParkedMailClient.Outcome outcomeB = nodeB.drain(leaseB, customer);
            leaseA.close();
            System.out.printf("lapse mid-drain: node-a %s, node-b %s%n", outcomeA, outcomeB);

            assertThat(outcomeA.brokenBecause()).hasValueSatisfying(reason -> assertThat(reason).contains("claim on customer.example was lost"));
            assertThat(outcomeA.delivered()).isGreaterThanOrEqualTo(4);
            assertThat(outcomeB.brokenBecause()).isEmpty();
            Map<String, Long> deliveries = deliveries(customer);
            // Nothing lost: delivered or still parked covers every message (and nothing is left parked).
            assertThat(deliveries.keySet()).containsExactlyInAnyOrderElementsOf(parked);
            assertThat(nodeB.store.count(CUSTOMER)).isZero();
            // At most the one message node A had on the wire when its lease lapsed arrives twice.
            assertThat(deliveries.values()).allSatisfy(times -> assertThat(times).isBetween(1L, 2L));
            assertThat(deliveries.values().stream().filter(times -> times == 2).count()).isLessThanOrEqualTo(1);
        }
    }

    /**
     * The customer's MTA both nodes deliver to, which keeps every message it acknowledged with 250
     * after the final dot. It can take its time over each end-of-data (so that drains last across
     * lease renewals) and hang up after a number of messages per connection (so that the customer
     * comes back, possibly through the other node).
     */
    private static SmtpSink customerMta(Duration endOfDataDelay, int messagesPerConnection) throws IOException {
        return new SmtpSink(new CustomerServer((step, index, reply) -> {
            if (step.equals("EHLO")) {
                // a plain MTA, no PIPELINING: the client sends one command at a time
                return Optional.of("250 customer.example");
            }
            if (step.equals("MAIL") && index == messagesPerConnection) {
                return Optional.empty(); // the customer's MTA hangs up; the customer will ATRN again
            }
            if (step.equals("END") && !endOfDataDelay.isZero()) {
                try {
                    Thread.sleep(endOfDataDelay.toMillis()); // the customer's MTA taking its time over a message
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Optional.of(reply);
        }));
    }

    /** Message-ID -> how many times the customer's MTA acknowledged it. */
    private Map<String, Long> deliveries(SmtpSink customer) {
        return customer.received().stream()
            .collect(Collectors.groupingBy(message -> messageId(message.data()), Collectors.counting()));
    }

    private static String messageId(byte[] message) {
        return new String(message, StandardCharsets.ISO_8859_1).lines()
            .filter(line -> line.regionMatches(true, 0, "Message-ID:", 0, "Message-ID:".length()))
            .map(line -> line.substring("Message-ID:".length()).trim())
            .findFirst().orElse("(none)");
    }

    /** Parks {@code count} messages with distinct Message-IDs, oldest first; returns their Message-IDs. */
    private List<String> park(Node node, int count) throws Exception {
        List<String> ids = new ArrayList<>();
        Instant start = Instant.now().minusSeconds(60);
        for (int i = 0; i < count; i++) {
            String id = "<" + i + "-" + UUID.randomUUID() + "@sender.test>";
            byte[] bytes = ("From: sender@sender.test\r\nTo: user@customer.example\r\nSubject: parked " + i
                + "\r\nMessage-ID: " + id + "\r\n\r\nHello number " + i + "\r\n").getBytes(StandardCharsets.US_ASCII);
            MailImpl mail = MailImpl.builder()
                .name(ParkedNames.newName(start.plusMillis(i), false, bytes.length))
                .sender(new MailAddress("sender@sender.test"))
                .addRecipient(new MailAddress("user@customer.example"))
                .mimeMessage(new MimeMessage(Session.getDefaultInstance(new Properties()), new ByteArrayInputStream(bytes)))
                .build();
            node.store.park(CUSTOMER, mail);
            mail.dispose();
            ids.add(id);
        }
        return ids;
    }

    private Node node(String name, Duration lease, Function<DomainClaimStore, DomainClaimStore> claimsPath) throws Exception {
        CqlSession session = EmbeddedCassandra.get().session();
        sessions.add(session);
        ParkedMailStore store = new ParkedMailStore(new CassandraMailRepositories(session, sharedBlobs), configuration);
        DomainLeases leases = new DomainLeases(claimsPath.apply(new CassandraDomainClaims(session)), lease, name);
        renewers.add(leases);
        return new Node(name, store, leases);
    }

    /** config-samples/atrn.xml with the distributed app's repository prefix, as the README tells operators. */
    private static AtrnConfiguration shippedConfigurationOnCassandra() throws Exception {
        String shipped = Files.readString(Path.of("../config-samples/atrn.xml"));
        String sampleLine = "<repositoryUrlPrefix>parkedfile://var/mail/atrn/</repositoryUrlPrefix>";
        assertThat(shipped).contains(sampleLine);
        String onCassandra = shipped.replace(sampleLine, "<repositoryUrlPrefix>" + CASSANDRA_PREFIX + "</repositoryUrlPrefix>");
        XMLConfiguration xml = new XMLConfiguration();
        new FileHandler(xml).load(new StringReader(onCassandra));
        AtrnConfiguration parsed = AtrnConfiguration.parse(xml, "conf/atrn.xml");
        assertThat(parsed.repositoryUrl(CUSTOMER).asString()).isEqualTo(CASSANDRA_PREFIX + "customer.example");
        return parsed;
    }

    record Sessions(int drains, int refused, int lostClaim, int delivered) {
    }

    /** One James node: its own store view and its own leases over the shared tables. */
    private final class Node {
        private final String name;
        private final ParkedMailStore store;
        private final DomainLeases leases;
        private final FakeMailContext mailetContext = FakeMailContext.defaultContext();

        Node(String name, ParkedMailStore store, DomainLeases leases) {
            this.name = name;
            this.store = store;
            this.leases = leases;
        }

        ParkedMailClient.Outcome drain(DomainLeases.DomainLease lease, SmtpSink customer) {
            try {
                SmtpPeer connection = OutboundConnection.connect(customer.address(), Duration.ofSeconds(10), watchdog);
                return new ParkedMailClient(connection, lease, configuration, store, mailetContext, name).drain();
            } catch (SmtpPeer.Broken e) {
                throw new IllegalStateException(e);
            }
        }

        /** The customer's ATRN through this node, again and again, until nothing is parked. */
        Sessions drainUntilEmpty(SmtpSink customer) {
            AtomicInteger drains = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger lost = new AtomicInteger();
            AtomicInteger delivered = new AtomicInteger();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            try {
                while (store.count(CUSTOMER) > 0 && System.nanoTime() < deadline) {
                    Optional<DomainLeases.DomainLease> claim = leases.claimAll(List.of(CUSTOMER), DomainLeases.Purpose.ATRN,
                        String.valueOf(drains.get() + refused.get()));
                    if (claim.isEmpty()) {
                        refused.incrementAndGet();
                        Thread.sleep(25); // the customer's pause before it tries ATRN again
                        continue;
                    }
                    try (DomainLeases.DomainLease lease = claim.get()) {
                        ParkedMailClient.Outcome outcome = drain(lease, customer);
                        drains.incrementAndGet();
                        delivered.addAndGet(outcome.delivered());
                        if (outcome.brokenBecause().filter(reason -> reason.contains("was lost")).isPresent()) {
                            lost.incrementAndGet();
                        }
                    }
                    Thread.sleep(25); // the customer reconnects after its MTA hung up
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return new Sessions(drains.get(), refused.get(), lost.get(), delivered.get());
        }
    }

    /** Node A's path to Cassandra, which the test can cut: every claim call then fails like a partition. */
    private static final class PartitionedClaims {
        private volatile boolean cut;

        void cut() {
            cut = true;
        }

        DomainClaimStore over(DomainClaimStore cassandra) {
            return new DomainClaimStore() {
                @Override
                public boolean tryClaim(Domain domain, String owner, Duration lease) {
                    check();
                    return cassandra.tryClaim(domain, owner, lease);
                }

                @Override
                public boolean renew(Domain domain, String owner, Duration lease) {
                    check();
                    return cassandra.renew(domain, owner, lease);
                }

                @Override
                public void release(Domain domain, String owner) {
                    check();
                    cassandra.release(domain, owner);
                }

                @Override
                public Optional<String> ownerOf(Domain domain) {
                    check();
                    return cassandra.ownerOf(domain);
                }
            };
        }

        private void check() {
            if (cut) {
                throw new IllegalStateException("node A cannot reach Cassandra (test partition)");
            }
        }
    }
}
