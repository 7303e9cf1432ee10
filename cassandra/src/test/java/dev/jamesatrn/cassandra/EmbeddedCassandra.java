package dev.jamesatrn.cassandra;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import org.apache.cassandra.service.CassandraDaemon;
import org.junit.jupiter.api.Assumptions;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;

/**
 * One Cassandra 5.0 node inside the test JVM (no Docker here), started once for every test class
 * of this module: a Cassandra daemon can only be started once per JVM. Its directories live in a
 * fresh folder under target/ and its ports are free ones, so parallel builds on one machine do
 * not collide.
 *
 * <p>The JVM needs Cassandra's Java 17 module flags (conf/jvm17-server.options of Cassandra): the
 * Surefire argLine of this module carries them.
 */
final class EmbeddedCassandra {
    static final String KEYSPACE = "atrn_test";
    private static final String DATACENTER = "datacenter1"; // SimpleSnitch's only data centre

    private static EmbeddedCassandra instance;
    private static String cannotStart;

    private final int nativePort;

    private EmbeddedCassandra(int nativePort) {
        this.nativePort = nativePort;
    }

    /** The running node; tests are skipped, with the reason printed, when it cannot start here. */
    static synchronized EmbeddedCassandra get() {
        if (instance == null && cannotStart == null) {
            try {
                instance = start();
            } catch (Throwable e) {
                cannotStart = "embedded Cassandra cannot start in this JVM: " + e;
                System.err.println("SKIPPED the Cassandra tests: " + cannotStart);
                e.printStackTrace();
            }
        }
        Assumptions.assumeTrue(instance != null, () -> cannotStart);
        return instance;
    }

    private static EmbeddedCassandra start() throws IOException {
        long started = System.nanoTime();
        // Under target/: mvn clean removes it, and nothing piles up in /tmp run after run.
        Path target = Files.createDirectories(Path.of("target"));
        Path home = Files.createTempDirectory(target.toAbsolutePath(), "embedded-cassandra-");
        int storagePort = freePort();
        int nativePort = freePort();
        Path yaml = home.resolve("cassandra.yaml");
        Files.writeString(yaml, configuration(home, storagePort, nativePort), StandardCharsets.UTF_8);

        System.setProperty("cassandra.config", yaml.toUri().toString());
        System.setProperty("cassandra.storagedir", home.toString());
        System.setProperty("cassandra-foreground", "true");
        // A single node is its own seed: nothing to wait for in gossip, no ring to settle.
        System.setProperty("cassandra.skip_wait_for_gossip_to_settle", "0");
        System.setProperty("cassandra.ring_delay_ms", "0");
        // No fsync and no flush of the schema tables at each CREATE/DROP: the data dies with the
        // test JVM anyway, and a DDL statement drops from seconds to a fraction of one.
        System.setProperty("cassandra.unsafesystem", "true");
        System.setProperty("cassandra.skip_sync", "true");
        System.setProperty("cassandra.test.flush_local_schema_changes", "false");

        // Managed: a start-up error is thrown to us instead of calling System.exit on the fork.
        CassandraDaemon daemon = new CassandraDaemon(true);
        daemon.activate();
        EmbeddedCassandra cassandra = new EmbeddedCassandra(nativePort);
        try (CqlSession session = cassandra.session(Optional.empty())) {
            session.execute("CREATE KEYSPACE IF NOT EXISTS " + KEYSPACE
                + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        }
        System.out.printf("Embedded Cassandra 5.0 ready on 127.0.0.1:%d in %d ms (%s)%n", nativePort,
            Duration.ofNanos(System.nanoTime() - started).toMillis(), home);
        return cassandra;
    }

    private static String configuration(Path home, int storagePort, int nativePort) {
        return String.join("\n",
            "cluster_name: atrn-test",
            "num_tokens: 1",
            "partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
            "endpoint_snitch: SimpleSnitch",
            "seed_provider:",
            "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
            "    parameters:",
            "      - seeds: \"127.0.0.1:" + storagePort + "\"",
            "listen_address: 127.0.0.1",
            "rpc_address: 127.0.0.1",
            "storage_port: " + storagePort,
            "native_transport_port: " + nativePort,
            "start_native_transport: true",
            "data_file_directories:",
            "  - " + home.resolve("data"),
            "commitlog_directory: " + home.resolve("commitlog"),
            "saved_caches_directory: " + home.resolve("saved_caches"),
            "hints_directory: " + home.resolve("hints"),
            "cdc_raw_directory: " + home.resolve("cdc_raw"),
            // Periodic sync: commit log writes never wait for the disk.
            "commitlog_sync: periodic",
            "commitlog_sync_period: 10000ms",
            // DROP TABLE / DROP KEYSPACE in the tests would otherwise snapshot first.
            "auto_snapshot: false",
            "concurrent_reads: 4",
            "concurrent_writes: 4",
            "concurrent_counter_writes: 2",
            // The tests' own Awaitility bounds catch slowness; Cassandra must not time out first
            // on a machine shared with other builds.
            "read_request_timeout: 10000ms",
            "write_request_timeout: 10000ms",
            "cas_contention_timeout: 10000ms",
            "request_timeout: 20000ms",
            "");
    }

    /** A new session, in {@link #KEYSPACE} or in none. Close it. */
    CqlSession session(Optional<String> keyspace) {
        DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(20))
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(10))
            .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(20))
            .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(20))
            // One node: token-aware routing has nothing to choose, and computing it slows each session's start.
            .withBoolean(DefaultDriverOption.METADATA_TOKEN_MAP_ENABLED, false)
            .build();
        var builder = CqlSession.builder()
            .addContactPoint(new InetSocketAddress("127.0.0.1", nativePort))
            .withLocalDatacenter(DATACENTER)
            .withConfigLoader(config);
        keyspace.ifPresent(builder::withKeyspace);
        return builder.build();
    }

    CqlSession session() {
        return session(Optional.of(KEYSPACE));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
