package dev.jamesatrn.claims;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;

import org.apache.james.core.Domain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Claims of several domains at once (a multi-domain ATRN): whatever goes wrong half-way, the
 * domains already claimed are given back, or they would refuse every drain (ATRN 451, ETRN 458,
 * WebAdmin 409) until their lease lapsed.
 */
class DomainLeasesTest {
    private static final Domain FIRST = Domain.of("first.example");
    private static final Domain SECOND = Domain.of("second.example");

    /** The in-JVM store, except that every call about {@link #SECOND} fails as told. */
    private static final class FailingOnSecond extends InJvmDomainClaims {
        private final RuntimeException failure;
        private final Error error;

        FailingOnSecond(RuntimeException failure, Error error) {
            this.failure = failure;
            this.error = error;
        }

        @Override
        public synchronized boolean tryClaim(Domain domain, String owner, Duration lease) {
            if (domain.equals(SECOND)) {
                if (error != null) {
                    throw error;
                }
                throw failure;
            }
            return super.tryClaim(domain, owner, lease);
        }
    }

    private DomainLeases leases;

    @AfterEach
    void stop() {
        if (leases != null) {
            leases.stop();
        }
    }

    /** WebAdmin's 409 and ETRN's log name the one domain, even when its holder let go before we asked. */
    @Test
    void aRefusalForOneDomainNamesItWhetherOrNotItsHolderIsStillThere() throws Exception {
        leases = new DomainLeases(new InJvmDomainClaims(), Duration.ofMinutes(2), "node");
        assertThat(leases.busy(FIRST)).isEqualTo("first.example is busy");
        assertThat(leases.busy(List.of(FIRST, SECOND))).isEqualTo("a listed domain was claimed meanwhile");

        Optional<DomainLeases.DomainLease> held = leases.claim(List.of(FIRST), DomainLeases.Purpose.ATRN, "s1");
        assertThat(held).isPresent();
        assertThat(leases.busy(FIRST)).startsWith("first.example is being delivered by another ODMR session");
        held.get().close();
    }

    @Test
    void aStoreErrorOnTheSecondDomainGivesTheFirstBack() {
        InJvmDomainClaims store = new FailingOnSecond(new IllegalStateException("read timeout"), null);
        leases = new DomainLeases(store, Duration.ofMinutes(2), "node");

        assertThatThrownBy(() -> leases.claimAll(List.of(FIRST, SECOND), DomainLeases.Purpose.ATRN, "s1"))
            .hasMessage("read timeout");
        assertThat(store.ownerOf(FIRST)).isEmpty();
    }

    /** A conditional write that timed out may still have taken the claim (Cassandra LWT). */
    @Test
    void aClaimWrittenButReportedAsATimeoutIsGivenBackToo() {
        InJvmDomainClaims store = new InJvmDomainClaims() {
            @Override
            public synchronized boolean tryClaim(Domain domain, String owner, Duration lease) {
                boolean taken = super.tryClaim(domain, owner, lease);
                if (domain.equals(SECOND)) {
                    throw new IllegalStateException("write timeout (the claim was written)");
                }
                return taken;
            }
        };
        leases = new DomainLeases(store, Duration.ofMinutes(2), "node");

        assertThatThrownBy(() -> leases.claimAll(List.of(FIRST, SECOND), DomainLeases.Purpose.ATRN, "s1"))
            .hasMessageContaining("write timeout");
        assertThat(store.ownerOf(FIRST)).isEmpty();
        assertThat(store.ownerOf(SECOND)).isEmpty();
    }

    @Test
    void anErrorOnTheSecondDomainGivesTheFirstBack() {
        InJvmDomainClaims store = new FailingOnSecond(null, new AssertionError("driver bug"));
        leases = new DomainLeases(store, Duration.ofMinutes(2), "node");

        assertThatThrownBy(() -> leases.claimAll(List.of(FIRST, SECOND), DomainLeases.Purpose.ATRN, "s1"))
            .isInstanceOf(AssertionError.class);
        assertThat(store.ownerOf(FIRST)).isEmpty();
    }

    @Test
    void aRenewalThatCannotBeScheduledGivesEveryDomainBack() {
        // James shutting down while a drain claims: the renewal thread is gone.
        InJvmDomainClaims store = new InJvmDomainClaims();
        leases = new DomainLeases(store, Duration.ofMinutes(2), "node");
        leases.stop();

        assertThatThrownBy(() -> leases.claimAll(List.of(FIRST, SECOND), DomainLeases.Purpose.ATRN, "s1"))
            .isInstanceOf(RejectedExecutionException.class);
        assertThat(store.ownerOf(FIRST)).isEmpty();
        assertThat(store.ownerOf(SECOND)).isEmpty();
    }

    @Test
    void aRefusedSecondDomainGivesTheFirstBack() {
        InJvmDomainClaims store = new InJvmDomainClaims();
        store.tryClaim(SECOND, "other|ATRN|x", Duration.ofMinutes(2));
        leases = new DomainLeases(store, Duration.ofMinutes(2), "node");

        assertThat(leases.claimAll(List.of(FIRST, SECOND), DomainLeases.Purpose.ATRN, "s1")).isEqualTo(Optional.empty());
        assertThat(store.ownerOf(FIRST)).isEmpty();
    }

    /**
     * A multi-domain ATRN gives each domain back once it is drained: another drainer may take it
     * at once, and the session keeps (and renews) the rest, past its first lease.
     */
    @Test
    void aDomainGivenBackEarlyIsFreeAtOnceWhileTheOthersStayHeldAndRenewed() {
        InJvmDomainClaims store = new InJvmDomainClaims();
        Duration lease = Duration.ofSeconds(3);
        leases = new DomainLeases(store, lease, "node");
        DomainLeases.DomainLease claim = leases.claimAll(List.of(FIRST, SECOND), DomainLeases.Purpose.ATRN, "s1").orElseThrow();

        claim.release(FIRST);

        assertThat(store.ownerOf(FIRST)).isEmpty();
        assertThat(store.tryClaim(FIRST, "other|ETRN|y", lease)).isTrue();
        assertThat(store.ownerOf(SECOND)).contains(claim.owner());
        // renewals must not trip over the domain given back (now someone else's)
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(claim::held);
        assertThat(store.ownerOf(SECOND)).contains(claim.owner());

        claim.close();
        assertThat(store.ownerOf(SECOND)).isEmpty();
    }
}
