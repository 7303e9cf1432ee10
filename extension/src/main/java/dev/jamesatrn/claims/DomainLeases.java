package dev.jamesatrn.claims;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.annotation.PreDestroy;
import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.core.Domain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.collect.ImmutableList;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.DaemonThreads;

/**
 * Claims several domains at once (all or none, as RFC 2645 wants for one ATRN) as leases of the
 * configured {@code claimLease}, renewed in the background every third of it. Owners are
 * {@code node|purpose|id}, so a node's log and WebAdmin can tell who holds a domain.
 */
@Singleton
public class DomainLeases {
    private static final Logger LOGGER = LoggerFactory.getLogger(DomainLeases.class);
    private static final char SEPARATOR = '|';

    /** What a claim is for; shown in the 451/458 texts and in WebAdmin. */
    public enum Purpose {
        ATRN("being delivered by another ODMR session"),
        ETRN("being delivered after an ETRN"),
        EXPIRY("being checked for expired mail"),
        WEBADMIN("being changed by an operator");

        private final String busyText;

        Purpose(String busyText) {
            this.busyText = busyText;
        }

        public String busyText() {
            return busyText;
        }
    }

    /** A parsed owner string. */
    public static final class Owner {
        private final String node;
        private final Purpose purpose;
        private final String id;

        public Owner(String node, Purpose purpose, String id) {
            this.node = node;
            this.purpose = purpose;
            this.id = id;
        }

        public Purpose purpose() {
            return purpose;
        }

        String asString() {
            return node + SEPARATOR + purpose.name() + SEPARATOR + id;
        }

        public static Optional<Owner> parse(String owner) {
            String[] parts = owner.split("\\|", 3);
            if (parts.length != 3) {
                return Optional.empty();
            }
            try {
                return Optional.of(new Owner(parts[0], Purpose.valueOf(parts[1]), parts[2]));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
    }

    private final DomainClaimStore store;
    private final Duration lease;
    private final String node;
    private final ScheduledExecutorService renewer;

    @Inject
    public DomainLeases(DomainClaimStore store, AtrnConfiguration configuration) {
        this(store, configuration.policies().claimLease(), defaultNodeName());
    }

    public DomainLeases(DomainClaimStore store, Duration lease, String node) {
        this.store = store;
        this.lease = lease;
        this.node = node.replace(SEPARATOR, '_');
        this.renewer = DaemonThreads.scheduler("atrn-claim-renewal");
    }

    /** Host name and process id, plus a random part so that a restarted node is a new owner. */
    static String defaultNodeName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown-host";
        }
        return host + "-" + ManagementFactory.getRuntimeMXBean().getPid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Claims every domain or none. Whatever goes wrong on the way (a refusal, a storage error of
     * the claim store, an Error, a renewal that cannot be scheduled) gives back what was claimed
     * before it surfaces: an unreleased claim would be renewed by nobody, yet refuse every drain
     * of its domains until it lapses.
     */
    public Optional<DomainLease> claimAll(Collection<Domain> domains, Purpose purpose, String id) {
        // Unique per claim, not only per session: a release after an unknown outcome (a timed-out
        // conditional write) must never remove the live claim of another request of the same session.
        String owner = new Owner(node, purpose, id + "#" + UUID.randomUUID().toString().substring(0, 8)).asString();
        List<Domain> claimed = new ArrayList<>();
        long sentAt = System.nanoTime();
        boolean granted = false;
        try {
            for (Domain domain : domains) {
                // Listed for release before the attempt: a conditional write that timed out may
                // have taken the claim all the same (releasing a domain we do not hold is a no-op).
                claimed.add(domain);
                if (!store.tryClaim(domain, owner, lease)) {
                    return Optional.empty();
                }
            }
            DomainLease claim = new DomainLease(ImmutableList.copyOf(domains), owner, sentAt);
            long every = Math.max(1, lease.toMillis() / 3);
            claim.renewal = renewer.scheduleWithFixedDelay(claim::renew, every, every, TimeUnit.MILLISECONDS);
            granted = true;
            return Optional.of(claim);
        } finally {
            if (!granted) {
                releaseQuietly(claimed, owner);
            }
        }
    }

    /**
     * {@link #claimAll} as every drainer (ATRN, ETRN, expiry, WebAdmin) calls it: a claim store
     * that fails is {@link Unavailable}, with the text for the reply.
     *
     * @return empty when a domain is held by someone else ({@link #busy} says who)
     */
    public Optional<DomainLease> claim(Collection<Domain> domains, Purpose purpose, String id) throws Unavailable {
        try {
            return claimAll(domains, purpose, id);
        } catch (RuntimeException e) {
            String names = domains.stream().map(Domain::asString).collect(Collectors.joining(","));
            throw new Unavailable("the claim on " + names + " cannot be taken now", e);
        }
    }

    /** The claim store failed; the message is the text for a reply (RFC 2645 451, RFC 1985 458) or a log. */
    public static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String text, RuntimeException cause) {
            super(text, cause);
        }
    }

    /** Who holds the domains a claim was refused for, and what they are doing. */
    public String busy(Collection<Domain> domains) {
        List<String> reasons = new ArrayList<>();
        for (Domain domain : domains) {
            busyText(domain).ifPresent(text -> reasons.add(isBusy(domain, text)));
        }
        return reasons.isEmpty() ? "a listed domain was claimed meanwhile" : String.join("; ", reasons);
    }

    /** The same for one domain (WebAdmin, an ETRN delivery): its holder, or, if it let go meanwhile, that it is busy. */
    public String busy(Domain domain) {
        return busyText(domain).map(text -> isBusy(domain, text)).orElse(isBusy(domain, "busy"));
    }

    /** "customer.example is being delivered by another ODMR session" and the like. */
    public static String isBusy(Domain domain, String busyText) {
        return domain.asString() + " is " + busyText;
    }

    /** For ETRN, which reads who holds a domain before it claims it (once a host accepted EHLO). */
    public static String cannotCheck(Domain domain) {
        return "the claim on " + domain.asString() + " cannot be checked now";
    }

    /** Who holds the domain now, if anyone (claims of other software show as their raw owner text). */
    public Optional<String> holderOf(Domain domain) {
        return store.ownerOf(domain);
    }

    /**
     * "being delivered by an ODMR session" and the like, for the text of a refusal after a claim
     * was refused. Never throws: a claim store that cannot say who holds the domain must not
     * turn a refusal into an error (and an error path that forgets a claim).
     */
    public Optional<String> busyText(Domain domain) {
        try {
            return store.ownerOf(domain).map(DomainLeases::busyTextOf);
        } catch (RuntimeException e) {
            LOGGER.warn("Cannot read who holds {}: {}", domain.asString(), e.getMessage());
            return Optional.of("claimed by another drainer (who, cannot be read now)");
        }
    }

    /** The refusal text for a holder as {@link #holderOf} returns it. */
    public static String busyTextOf(String owner) {
        return Owner.parse(owner).map(o -> o.purpose().busyText()).orElse("claimed by " + owner);
    }

    private void releaseQuietly(List<Domain> domains, String owner) {
        for (Domain domain : domains) {
            try {
                store.release(domain, owner);
            } catch (RuntimeException e) {
                LOGGER.warn("Could not release the claim on {} (it lapses after {}): {}", domain.asString(), lease, e.getMessage());
            }
        }
    }

    @PreDestroy
    public void stop() {
        renewer.shutdownNow();
    }

    /**
     * Domains held by one owner. {@link #held()} is what a drainer checks before each change to
     * the store: it turns false as soon as a renewal is refused, and also when renewals failed
     * for so long that the lease may have lapsed in the store (a quarter of the lease is kept
     * as a safety margin against clock and network delays).
     */
    public final class DomainLease implements AutoCloseable {
        private final List<Domain> domains;
        // Those not yet given back (see release): renewed, and released at close.
        private final List<Domain> stillHeld;
        private final String owner;
        private volatile long validUntilNanos;
        private volatile boolean lost;
        private volatile ScheduledFuture<?> renewal;
        private boolean closed;

        private DomainLease(List<Domain> domains, String owner, long sentAt) {
            this.domains = domains;
            this.stillHeld = new ArrayList<>(domains);
            this.owner = owner;
            this.validUntilNanos = sentAt + lease.toNanos() - lease.toNanos() / 4;
        }

        /** Every domain claimed, including those already given back. */
        public List<Domain> domains() {
            return domains;
        }

        public String owner() {
            return owner;
        }

        public boolean held() {
            return !lost && System.nanoTime() - validUntilNanos < 0;
        }

        // Synchronized with release: a renewal of a domain just given back would fail, and mark
        // the domains still held as lost.
        private synchronized void renew() {
            if (lost) {
                return;
            }
            long sentAt = System.nanoTime();
            try {
                for (Domain domain : stillHeld) {
                    if (!store.renew(domain, owner, lease)) {
                        lost = true;
                        LOGGER.warn("The claim of {} on {} was lost (lease lapsed or taken over); its drain stops", owner,
                            domain.asString());
                        return;
                    }
                }
                validUntilNanos = sentAt + lease.toNanos() - lease.toNanos() / 4;
            } catch (RuntimeException e) {
                LOGGER.warn("Could not renew the claim of {} on {}: {}", owner, stillHeld, e.getMessage());
            }
        }

        /**
         * Gives one domain back before the others (a multi-domain ATRN whose first domain is
         * drained): it is no longer renewed, and any drainer may claim it at once.
         */
        public synchronized void release(Domain domain) {
            if (closed || !stillHeld.remove(domain)) {
                return;
            }
            releaseQuietly(List.of(domain), owner);
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            ScheduledFuture<?> scheduled = renewal;
            if (scheduled != null) {
                scheduled.cancel(false);
            }
            lost = true;
            releaseQuietly(List.copyOf(stillHeld), owner);
            stillHeld.clear();
        }
    }
}
