package dev.jamesatrn.claims;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.james.core.Domain;
import org.junit.jupiter.api.Test;

/**
 * What every {@link DomainClaimStore} must do, whatever holds the claims: one JVM's memory or a
 * Cassandra table shared by several James nodes. Each implementation's test extends this class.
 *
 * <p>Leases are one or two seconds so that expiry can be observed; a store may keep a claim a
 * little longer than asked (Cassandra's TTL has whole seconds) but never shorter, which is why
 * expiry is awaited with a generous bound rather than expected at an instant.
 */
public abstract class DomainClaimStoreContract {
    protected static final Duration SHORT_LEASE = Duration.ofSeconds(1);
    protected static final Duration LONG_LEASE = Duration.ofMinutes(2);
    // Whole seconds of TTL, rounded up, plus time for the store's own clock granularity.
    private static final Duration EXPIRY_BOUND = Duration.ofSeconds(6);

    /** The store under test; the same instance for every call in one test. */
    protected abstract DomainClaimStore store();

    // A fresh domain per test: stores shared across tests (one Cassandra table) never see
    // another test's claims.
    private final Domain domain = Domain.of("d" + UUID.randomUUID().toString().substring(0, 8) + ".customer.example");
    private final String nodeA = "node-a|ATRN|1";
    private final String nodeB = "node-b|ATRN|7";

    @Test
    void aFreeDomainIsClaimedByTheFirstOwner() {
        assertThat(store().tryClaim(domain, nodeA, LONG_LEASE)).isTrue();
        assertThat(store().ownerOf(domain)).contains(nodeA);
    }

    @Test
    void aClaimedDomainIsRefusedToAnyOtherOwner() {
        store().tryClaim(domain, nodeA, LONG_LEASE);

        assertThat(store().tryClaim(domain, nodeB, LONG_LEASE)).isFalse();
        assertThat(store().ownerOf(domain)).contains(nodeA);
    }

    @Test
    void aClaimedDomainIsRefusedToItsOwnerToo() {
        store().tryClaim(domain, nodeA, LONG_LEASE);

        assertThat(store().tryClaim(domain, nodeA, LONG_LEASE)).isFalse();
    }

    @Test
    void anUnclaimedDomainHasNoOwner() {
        assertThat(store().ownerOf(domain)).isEmpty();
    }

    @Test
    void claimsOnDifferentDomainsAreIndependent() {
        Domain other = Domain.of("other-" + domain.asString());
        store().tryClaim(domain, nodeA, LONG_LEASE);

        assertThat(store().tryClaim(other, nodeB, LONG_LEASE)).isTrue();
        assertThat(store().ownerOf(other)).contains(nodeB);
        assertThat(store().ownerOf(domain)).contains(nodeA);
    }

    @Test
    void ownersRacingForOneDomainGetItExactlyOnce() throws Exception {
        int racers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Boolean>> outcomes = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                String owner = "node-" + i + "|ATRN|" + i;
                outcomes.add(pool.submit(() -> {
                    start.await();
                    return store().tryClaim(domain, owner, LONG_LEASE);
                }));
            }
            start.countDown();
            int winners = 0;
            for (Future<Boolean> outcome : outcomes) {
                winners += outcome.get(30, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aClaimLapsesWhenItsLeaseRunsOut() {
        store().tryClaim(domain, nodeA, SHORT_LEASE);

        await().atMost(EXPIRY_BOUND).until(() -> store().ownerOf(domain).isEmpty());
        assertThat(store().tryClaim(domain, nodeB, LONG_LEASE)).isTrue();
        assertThat(store().ownerOf(domain)).contains(nodeB);
    }

    @Test
    void aCrashedOwnerThatNeverRenewsLosesTheDomainToTheNextClaimant() {
        store().tryClaim(domain, nodeA, SHORT_LEASE);
        // node A is gone: nobody renews. Node B keeps asking, as a customer's retried ATRN would.

        await().atMost(EXPIRY_BOUND).until(() -> store().tryClaim(domain, nodeB, LONG_LEASE));
        assertThat(store().ownerOf(domain)).contains(nodeB);
        assertThat(store().renew(domain, nodeA, LONG_LEASE)).isFalse();
    }

    @Test
    void theOwnerRenewsItsClaim() {
        store().tryClaim(domain, nodeA, LONG_LEASE);

        assertThat(store().renew(domain, nodeA, LONG_LEASE)).isTrue();
        assertThat(store().ownerOf(domain)).contains(nodeA);
    }

    @Test
    void aRenewalExtendsTheLeaseBeyondItsFirstTerm() {
        store().tryClaim(domain, nodeA, SHORT_LEASE);
        assertThat(store().renew(domain, nodeA, Duration.ofSeconds(5))).isTrue();

        // Held throughout 2.5 s, well past the first 1 s term (and its rounding), and exclusive:
        // in Cassandra an UPDATE ... USING TTL renews the owner cell, not the row the INSERT made,
        // so what matters is that nobody else can claim the domain once that first term is over.
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(4))
            .until(() -> store().ownerOf(domain).equals(Optional.of(nodeA)));
        assertThat(store().tryClaim(domain, nodeB, LONG_LEASE)).isFalse();
        assertThat(store().ownerOf(domain)).contains(nodeA);
    }

    @Test
    void anotherOwnerCannotRenew() {
        store().tryClaim(domain, nodeA, LONG_LEASE);

        assertThat(store().renew(domain, nodeB, LONG_LEASE)).isFalse();
        assertThat(store().ownerOf(domain)).contains(nodeA);
    }

    @Test
    void aLapsedClaimCannotBeRenewed() {
        store().tryClaim(domain, nodeA, SHORT_LEASE);
        await().atMost(EXPIRY_BOUND).until(() -> store().ownerOf(domain).isEmpty());

        assertThat(store().renew(domain, nodeA, LONG_LEASE)).isFalse();
        assertThat(store().ownerOf(domain)).isEmpty();
    }

    @Test
    void anUnclaimedDomainCannotBeRenewed() {
        assertThat(store().renew(domain, nodeA, LONG_LEASE)).isFalse();
        assertThat(store().ownerOf(domain)).isEmpty();
    }

    @Test
    void theOwnerReleasesItsClaim() {
        store().tryClaim(domain, nodeA, LONG_LEASE);

        store().release(domain, nodeA);

        assertThat(store().ownerOf(domain)).isEmpty();
        assertThat(store().tryClaim(domain, nodeB, LONG_LEASE)).isTrue();
    }

    @Test
    void anotherOwnerCannotRelease() {
        store().tryClaim(domain, nodeA, LONG_LEASE);

        store().release(domain, nodeB);

        assertThat(store().ownerOf(domain)).contains(nodeA);
        assertThat(store().renew(domain, nodeA, LONG_LEASE)).isTrue();
    }

    @Test
    void releasingAnUnclaimedDomainChangesNothing() {
        store().release(domain, nodeA);

        assertThat(store().ownerOf(domain)).isEmpty();
        assertThat(store().tryClaim(domain, nodeA, LONG_LEASE)).isTrue();
    }

    @Test
    void aReleasedClaimCannotBeRenewed() {
        store().tryClaim(domain, nodeA, LONG_LEASE);
        store().release(domain, nodeA);

        assertThat(store().renew(domain, nodeA, LONG_LEASE)).isFalse();
    }

    @Test
    void anOldOwnerReleasingLateLeavesTheNewOwnersClaim() {
        store().tryClaim(domain, nodeA, SHORT_LEASE);
        await().atMost(EXPIRY_BOUND).until(() -> store().tryClaim(domain, nodeB, LONG_LEASE));

        store().release(domain, nodeA);

        assertThat(store().ownerOf(domain)).contains(nodeB);
    }
}
