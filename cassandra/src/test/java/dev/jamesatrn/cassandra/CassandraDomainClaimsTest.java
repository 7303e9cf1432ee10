package dev.jamesatrn.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Optional;

import org.apache.james.core.Domain;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.datastax.oss.driver.api.core.CqlSession;

import dev.jamesatrn.claims.DomainClaimStore;
import dev.jamesatrn.claims.DomainClaimStoreContract;

/** The cluster-wide claim store against the contract every claim store passes, plus its schema handling. */
class CassandraDomainClaimsTest extends DomainClaimStoreContract {
    private static CqlSession session;
    private static CassandraDomainClaims store;

    @BeforeAll
    static void connect() {
        session = EmbeddedCassandra.get().session();
        store = new CassandraDomainClaims(session);
    }

    @AfterAll
    static void disconnect() {
        if (session != null) {
            session.close();
        }
    }

    @Override
    protected DomainClaimStore store() {
        return store;
    }

    @Test
    void startingAgainOverAnExistingTableKeepsItsClaims() {
        Domain domain = Domain.of("restart.customer.example");
        store.tryClaim(domain, "node-a|ATRN|1", LONG_LEASE);

        CassandraDomainClaims afterRestart = new CassandraDomainClaims(session);

        assertThat(afterRestart.ownerOf(domain)).contains("node-a|ATRN|1");
        store.release(domain, "node-a|ATRN|1");
    }

    @Test
    void theTableIsCreatedWhenMissing() {
        session.execute("DROP TABLE IF EXISTS " + CassandraDomainClaims.TABLE);

        CassandraDomainClaims fresh = new CassandraDomainClaims(session);
        store = fresh; // the old instance's prepared statements name the dropped table

        assertThat(session.getMetadata().getKeyspace(EmbeddedCassandra.KEYSPACE)
            .flatMap(keyspace -> keyspace.getTable(CassandraDomainClaims.TABLE))).isPresent();
        assertThat(fresh.tryClaim(Domain.of("fresh.customer.example"), "node-a|ATRN|1", LONG_LEASE)).isTrue();
    }

    @Test
    void aSessionWithoutKeyspaceIsRefusedWithTheFix() {
        try (CqlSession noKeyspace = EmbeddedCassandra.get().session(Optional.empty())) {
            assertThatThrownBy(() -> new CassandraDomainClaims(noKeyspace))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not connected to a keyspace")
                .hasMessageContaining("Fix: set cassandra.keyspace in conf/cassandra.properties");
        }
    }

    @Test
    void aTableThatCannotBeCreatedNamesTheCqlToRunByHand() {
        try (CqlSession elsewhere = EmbeddedCassandra.get().session(Optional.empty())) {
            elsewhere.execute("CREATE KEYSPACE IF NOT EXISTS atrn_readonly WITH replication = "
                + "{'class': 'SimpleStrategy', 'replication_factor': 1}");
        }
        // A keyspace that vanished after the session connected stands in for a user without
        // CREATE permission: the statement fails and the message must say what to run by hand.
        try (CqlSession readonly = EmbeddedCassandra.get().session(Optional.of("atrn_readonly"))) {
            readonly.execute("DROP KEYSPACE atrn_readonly");
            assertThatThrownBy(() -> new CassandraDomainClaims(readonly))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("could not create table atrn_readonly." + CassandraDomainClaims.TABLE)
                .hasMessageContaining("Fix: create it by hand with the CQL shipped in config-samples/cassandra/atrn-domain-claims.cql")
                .hasMessageContaining("cqlsh -k atrn_readonly -f atrn-domain-claims.cql");
        }
    }

    @Test
    void theShippedCqlIsTheStatementRunAtStart() {
        assertThat(CassandraDomainClaims.schemaStatement())
            .startsWith("CREATE TABLE IF NOT EXISTS " + CassandraDomainClaims.TABLE + " (")
            .doesNotContain("--")
            .doesNotEndWith(";");
    }

    @Test
    void leasesBecomeWholeSecondsOfTtlRoundedUp() {
        assertThat(CassandraDomainClaims.ttlSeconds(Duration.ofSeconds(2))).isEqualTo(2);
        assertThat(CassandraDomainClaims.ttlSeconds(Duration.ofMillis(1500))).isEqualTo(2);
        assertThat(CassandraDomainClaims.ttlSeconds(Duration.ofMillis(1))).isEqualTo(1);
        assertThat(CassandraDomainClaims.ttlSeconds(Duration.ofMinutes(2))).isEqualTo(120);
        assertThatThrownBy(() -> CassandraDomainClaims.ttlSeconds(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
