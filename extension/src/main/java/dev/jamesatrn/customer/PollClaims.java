package dev.jamesatrn.customer;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

import org.apache.james.core.Domain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.claims.DomainClaimStore;

/**
 * One poll per provider across every node of a cluster, through the extension's claim store
 * (the same one that keeps two drains of a parked domain apart). A claim is a lease: renewed
 * every third of it while the poll runs (an ATRN reply alone may take 10 minutes), released on
 * every path, and lapsing by itself if this node dies.
 */
final class PollClaims {
    private static final Logger LOGGER = LoggerFactory.getLogger(PollClaims.class);
    /** Between node and id in the owner, like the provider side's owners (node|PURPOSE|id). */
    static final String PURPOSE = "CUSTOMER_POLL";

    private final Supplier<DomainClaimStore> store;
    private final Duration lease;
    private final String node;
    private final PollTimer timer;

    PollClaims(Supplier<DomainClaimStore> store, Duration lease, String node, PollTimer timer) {
        this.store = store;
        this.lease = lease;
        this.node = node.replace('|', '_');
        this.timer = timer;
    }

    /** This JVM as a claim owner: process and host, and a random part so that a restarted node is a new owner. */
    static String thisNode() {
        return ManagementFactory.getRuntimeMXBean().getName() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * The claim store keys {@link Domain}s. This key can never be a real domain's: ATRN takes only
     * LDH names (RFC 2645's ABNF, {@code AtrnConfiguration.normalizeDomain}), which have no '_',
     * and {@code .invalid} is reserved (RFC 6761). The provider name is a valid label by
     * construction ({@link CustomerConfiguration}).
     */
    static Domain keyOf(String providerName) {
        return Domain.of("customer_poll." + providerName.toLowerCase(Locale.ROOT) + ".invalid");
    }

    /**
     * Claims the provider's poll. A store failure surfaces as the exception, after the attempt is
     * given back: a conditional write that timed out may have taken the claim all the same.
     */
    Claim claim(String providerName) {
        Domain key = keyOf(providerName);
        String owner = node + "|" + PURPOSE + "|" + providerName + "#" + UUID.randomUUID().toString().substring(0, 8);
        boolean granted;
        try {
            granted = store.get().tryClaim(key, owner, lease);
        } catch (RuntimeException e) {
            releaseQuietly(key, owner);
            throw e;
        }
        if (!granted) {
            return new Claim(key, owner, false, holder(key));
        }
        Claim claim = new Claim(key, owner, true, Optional.of(owner));
        claim.scheduleRenewal();
        return claim;
    }

    private Optional<String> holder(Domain key) {
        try {
            return store.get().ownerOf(key);
        } catch (RuntimeException e) {
            return Optional.of("(the claim store cannot say who: " + e.getMessage() + ")");
        }
    }

    private void releaseQuietly(Domain key, String owner) {
        try {
            store.get().release(key, owner);
        } catch (RuntimeException e) {
            LOGGER.warn("Could not release the claim {} on {} (it lapses after {}): {}", owner, key.asString(), lease, e.getMessage());
        }
    }

    /** A granted or refused claim; closing a granted one stops its renewal and releases it (once). */
    final class Claim implements AutoCloseable {
        private final Domain key;
        private final String owner;
        private final boolean granted;
        private final Optional<String> holder;
        private PollTimer.Scheduled renewal;
        private boolean closed;
        private boolean lost;

        private Claim(Domain key, String owner, boolean granted, Optional<String> holder) {
            this.key = key;
            this.owner = owner;
            this.granted = granted;
            this.holder = holder;
            this.closed = !granted;
        }

        boolean granted() {
            return granted;
        }

        /** Who holds the claim: this poll when granted, otherwise the other owner if the store could tell. */
        Optional<String> holder() {
            return holder;
        }

        String owner() {
            return owner;
        }

        synchronized boolean lost() {
            return lost;
        }

        private synchronized void scheduleRenewal() {
            if (!closed) {
                renewal = timer.schedule(this::renew, lease.dividedBy(3));
            }
        }

        /**
         * A lost claim does not stop the poll: the provider's own claims keep its mail from being
         * sent twice (a second session gets 451); it only means another node may poll too.
         */
        private void renew() {
            synchronized (this) {
                if (closed) {
                    return;
                }
            }
            try {
                if (!store.get().renew(key, owner, lease)) {
                    synchronized (this) {
                        lost = true;
                    }
                    LOGGER.warn("The claim {} on {} lapsed or was taken over during the poll: another node may poll this "
                        + "provider at the same time", owner, key.asString());
                    return;
                }
            } catch (RuntimeException e) {
                LOGGER.warn("Could not renew the claim {} on {}: {}", owner, key.asString(), e.getMessage());
            }
            scheduleRenewal();
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                if (renewal != null) {
                    renewal.cancel();
                }
            }
            releaseQuietly(key, owner);
        }
    }
}
