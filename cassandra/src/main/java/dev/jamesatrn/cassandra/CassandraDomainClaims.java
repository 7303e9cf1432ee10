package dev.jamesatrn.cassandra;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.apache.james.core.Domain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;

import dev.jamesatrn.claims.DomainClaimStore;

/**
 * Domain claims in a Cassandra table shared by every James node of a distributed app, so that a
 * domain is drained by one node at a time whichever node the customer connected to.
 *
 * <p>Each claim is one row written by a lightweight transaction (Paxos) with a TTL equal to the
 * lease: {@code INSERT ... IF NOT EXISTS} takes a free domain, {@code UPDATE ... IF owner = ?}
 * renews, {@code DELETE ... IF owner = ?} releases. Cassandra expires the row of an owner that
 * stopped renewing (a crashed or partitioned node), which is what frees its domains.
 *
 * <p>Consistency: the Paxos phase runs at {@code SERIAL}, not {@code LOCAL_SERIAL}, because two
 * James nodes in different data centres must not both win a domain; the commit phase at
 * {@code QUORUM}. {@link #ownerOf} reads at {@code SERIAL} too: a plain read could miss a claim
 * whose Paxos round was accepted but not yet committed everywhere.
 */
public class CassandraDomainClaims implements DomainClaimStore {
    private static final Logger LOGGER = LoggerFactory.getLogger(CassandraDomainClaims.class);

    static final String TABLE = "atrn_domain_claims";
    /** Copied from config-samples/cassandra/ into the jar: operators run the very same statement. */
    static final String SCHEMA_RESOURCE = "atrn-domain-claims.cql";
    static final String SCHEMA_SAMPLE = "config-samples/cassandra/" + SCHEMA_RESOURCE;
    // Cassandra refuses TTLs above 20 years.
    private static final long MAX_TTL_SECONDS = 630_720_000L;

    private final CqlSession session;
    private final PreparedStatement claim;
    private final PreparedStatement renew;
    private final PreparedStatement release;
    private final PreparedStatement owner;

    /** {@code session} is the one James binds: connected to James's keyspace, where the table lives. */
    @Inject
    public CassandraDomainClaims(CqlSession session) {
        this.session = session;
        createTableIfMissing(session);
        this.claim = session.prepare("INSERT INTO " + TABLE + " (domain, owner) VALUES (?, ?) IF NOT EXISTS USING TTL ?");
        this.renew = session.prepare("UPDATE " + TABLE + " USING TTL ? SET owner = ? WHERE domain = ? IF owner = ?");
        this.release = session.prepare("DELETE FROM " + TABLE + " WHERE domain = ? IF owner = ?");
        this.owner = session.prepare("SELECT owner FROM " + TABLE + " WHERE domain = ?");
    }

    @Override
    public boolean tryClaim(Domain domain, String owner, Duration lease) {
        try {
            return execute(lightweight(claim.bind(domain.asString(), owner, ttlSeconds(lease))));
        } catch (DriverException e) {
            // A timed-out LWT may still have been applied: give back what we might hold rather
            // than keep the domain from everyone until the TTL runs out.
            releaseAfterUnknownOutcome(domain, owner);
            throw failure("claim", domain, e);
        }
    }

    @Override
    public boolean renew(Domain domain, String owner, Duration lease) {
        try {
            return execute(lightweight(renew.bind(ttlSeconds(lease), owner, domain.asString(), owner)));
        } catch (DriverException e) {
            throw failure("renew the claim on", domain, e);
        }
    }

    @Override
    public void release(Domain domain, String owner) {
        try {
            execute(lightweight(release.bind(domain.asString(), owner)));
        } catch (DriverException e) {
            throw failure("release", domain, e);
        }
    }

    @Override
    public Optional<String> ownerOf(Domain domain) {
        try {
            Row row = session.execute(this.owner.bind(domain.asString())
                .setConsistencyLevel(DefaultConsistencyLevel.SERIAL)).one();
            return Optional.ofNullable(row).map(found -> found.getString("owner"));
        } catch (DriverException e) {
            throw failure("read the claim on", domain, e);
        }
    }

    private boolean execute(BoundStatement statement) {
        return session.execute(statement).wasApplied();
    }

    private static BoundStatement lightweight(BoundStatement statement) {
        return statement.setSerialConsistencyLevel(DefaultConsistencyLevel.SERIAL)
            .setConsistencyLevel(DefaultConsistencyLevel.QUORUM);
    }

    /**
     * Whole seconds, rounded up: a row may outlive its lease by less than a second, never die
     * before it. Holding a little long only delays the next drainer; lapsing early would let two
     * drain at once (DomainLeases keeps a quarter of the lease as its own margin on top).
     */
    static int ttlSeconds(Duration lease) {
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("a claim lease must be positive, got " + lease);
        }
        long seconds = lease.getSeconds() + (lease.getNano() > 0 ? 1 : 0);
        if (seconds > MAX_TTL_SECONDS) {
            throw new IllegalArgumentException("a claim lease must be at most 20 years (Cassandra's TTL limit), got " + lease);
        }
        return (int) seconds;
    }

    private void releaseAfterUnknownOutcome(Domain domain, String owner) {
        try {
            execute(lightweight(release.bind(domain.asString(), owner)));
        } catch (DriverException e) {
            LOGGER.warn("Could not undo a claim of {} on {} whose outcome is unknown; it lapses with its lease: {}", owner,
                domain.asString(), e.getMessage());
        }
    }

    private static IllegalStateException failure(String what, Domain domain, DriverException e) {
        return new IllegalStateException("Cassandra: could not " + what + " " + domain.asString() + " in table " + TABLE
            + ": " + e.getMessage(), e);
    }

    /**
     * James's distributed app creates its tables from a set of schema modules bound in its own
     * injector; an extension's child injector cannot add to that set, so the table is created
     * here, idempotently, in the keyspace of James's session.
     */
    static void createTableIfMissing(CqlSession session) {
        CqlIdentifier keyspace = session.getKeyspace().orElseThrow(() -> new IllegalStateException(
            "The CqlSession James binds is not connected to a keyspace, so table " + TABLE + " has no home. "
                + "Fix: set cassandra.keyspace in conf/cassandra.properties (James's distributed app always does)."));
        boolean exists = session.getMetadata().getKeyspace(keyspace)
            .flatMap(metadata -> metadata.getTable(TABLE))
            .isPresent();
        if (exists) {
            return;
        }
        try {
            session.execute(schemaStatement());
            LOGGER.info("Created table {}.{} for ATRN domain claims", keyspace.asCql(true), TABLE);
        } catch (DriverException e) {
            throw new IllegalStateException("Cassandra: could not create table " + keyspace.asCql(true) + "." + TABLE + " ("
                + e.getMessage() + "). Fix: create it by hand with the CQL shipped in " + SCHEMA_SAMPLE + " (cqlsh -k "
                + keyspace.asCql(true) + " -f " + SCHEMA_RESOURCE + "), then start James again.", e);
        }
    }

    /** The statement of the shipped CQL file, without its comments. */
    static String schemaStatement() {
        try (InputStream in = CassandraDomainClaims.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA_RESOURCE + " is missing from the james-atrn-cassandra jar: rebuild it");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String statement = text.lines()
                .filter(line -> !line.strip().startsWith("--"))
                .collect(Collectors.joining("\n"))
                .strip();
            return statement.endsWith(";") ? statement.substring(0, statement.length() - 1) : statement;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
