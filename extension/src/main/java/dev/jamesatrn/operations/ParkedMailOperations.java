package dev.jamesatrn.operations;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.inject.Inject;
import javax.inject.Singleton;
import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.util.streams.Limit;
import org.apache.james.util.streams.Offset;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.claims.DomainLeases.DomainLease;
import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.drain.Bounces;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * What an operator may do with parked mail: look at it, remove it, bounce it to its senders. Reads
 * need no claim: a message removed meanwhile is skipped (listings) or refused as no such mail. Every
 * change holds the domain's claim for its whole duration, so it never races an ATRN or ETRN drain
 * or the expiry sweep; a busy domain is refused, naming who holds it. Storage I/O: never on
 * a Netty event loop (WebAdmin runs it on Jetty's request threads).
 */
@Singleton
public class ParkedMailOperations {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkedMailOperations.class);

    /** Why an operation did nothing, or stopped part way; the message says what happened. */
    public static class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        public enum Why {
            /** No such parked message (delivered, bounced or removed meanwhile?). */
            NO_SUCH_MAIL,
            /** Someone else holds the domain's claim; nothing was changed. */
            BUSY,
            /** The claim could not be renewed part way: another drainer may hold it now. */
            CLAIM_LOST,
            /** The store or the claim store failed; the James log has the details. */
            FAILED
        }

        private final Why why;

        Refused(Why why, String message, Exception cause) {
            super(message, cause);
            this.why = why;
        }

        public Why why() {
            return why;
        }
    }

    private static Refused noSuchMail(Domain domain, MailKey key) {
        return new Refused(Refused.Why.NO_SUCH_MAIL, "No parked message " + key.asString() + " for " + domain.asString()
            + " (delivered, bounced or removed meanwhile?)", null);
    }

    /** A bounce failed part way; what was done before it stands. */
    public static final class BounceFailed extends Refused {
        private static final long serialVersionUID = 1L;
        private final MailKey key;
        private final BounceCount count;
        private final boolean bouncedNotRemoved;

        BounceFailed(Domain domain, MailKey key, BounceCount count, Exception cause) {
            super(Why.FAILED, "Stopped at " + key.asString() + " of " + domain.asString() + " after " + count.describe(), cause);
            this.key = key;
            this.count = count;
            this.bouncedNotRemoved = cause instanceof BouncedNotRemoved;
        }

        public MailKey key() {
            return key;
        }

        public BounceCount count() {
            return count;
        }

        /** The DSN went out but the message is still parked: bouncing it again would send a second DSN. */
        public boolean bouncedNotRemoved() {
            return bouncedNotRemoved;
        }
    }

    private static final class BouncedNotRemoved extends MessagingException {
        private static final long serialVersionUID = 1L;

        BouncedNotRemoved(MessagingException cause) {
            super("bounced, but could not be removed: " + cause.getMessage(), cause);
        }
    }

    @FunctionalInterface
    private interface StoreRead<T> {
        T run() throws MessagingException, Refused;
    }

    @FunctionalInterface
    private interface ClaimedChange<T> {
        T run(DomainLease lease) throws MessagingException, Refused;
    }

    private final AtrnConfiguration configuration;
    private final ParkedMailStore store;
    private final DomainLeases leases;
    private final MailetContext mailetContext;
    private final AtrnMetrics metrics;

    @Inject
    public ParkedMailOperations(AtrnConfiguration configuration, ParkedMailStore store, DomainLeases leases,
                                MailetContext mailetContext, AtrnMetrics metrics) {
        this.configuration = configuration;
        this.store = store;
        this.leases = leases;
        this.mailetContext = mailetContext;
        this.metrics = metrics;
    }

    public List<DomainView> domains() throws Refused {
        List<DomainView> views = new ArrayList<>();
        for (Domain domain : configuration.domains().stream().sorted(Comparator.comparing(Domain::asString))
                .collect(Collectors.toUnmodifiableList())) {
            views.add(domain(domain));
        }
        return views;
    }

    public DomainView domain(Domain domain) throws Refused {
        return read(() -> ParkedViews.domain(configuration, store, leases, domain));
    }

    /**
     * Oldest first for our names (they start with the parking time). Every listed message is read
     * from the store, which for 100,000 parked messages would be 100,000 reads: hence the page.
     */
    public List<MailView> mails(Domain domain, Offset offset, Limit limit) throws Refused {
        return read(() -> {
            List<MailKey> page = limit.applyOnStream(store.keys(domain).stream()
                .sorted(Comparator.comparing(MailKey::asString))
                .skip(offset.getOffset())).collect(Collectors.toUnmodifiableList());
            List<MailView> views = new ArrayList<>();
            for (MailKey key : page) {
                Mail mail = store.retrieve(domain, key).orElse(null);
                try {
                    if (mail != null) {
                        views.add(ParkedViews.summary(key, mail));
                    }
                } finally {
                    LifecycleUtil.dispose(mail);
                }
            }
            return views;
        });
    }

    /** The parked message itself; the caller disposes of it. */
    public Mail mail(Domain domain, MailKey key) throws Refused {
        Optional<Mail> mail = read(() -> store.retrieve(domain, key));
        return mail.orElseThrow(() -> noSuchMail(domain, key));
    }

    public MailView details(MailKey key, Mail mail) throws Refused {
        return read(() -> ParkedViews.details(key, mail));
    }

    public void remove(Domain domain, MailKey key, String claimId) throws Refused {
        underClaim(domain, claimId, lease -> {
            Mail mail = store.retrieve(domain, key).orElseThrow(() -> noSuchMail(domain, key));
            LifecycleUtil.dispose(mail);
            store.remove(domain, key);
            LOGGER.info("WebAdmin removed parked message {} of {}", key.asString(), domain.asString());
            return null;
        });
    }

    /** @return how many were removed */
    public int removeAll(Domain domain, String claimId) throws Refused {
        return underClaim(domain, claimId, lease -> {
            int removed = 0;
            for (MailKey key : store.keys(domain)) {
                checkStillHeld(lease, domain, "removed " + removed);
                store.remove(domain, key);
                removed++;
            }
            LOGGER.info("WebAdmin removed all {} parked message(s) of {}", removed, domain.asString());
            return removed;
        });
    }

    public BounceCount bounce(Domain domain, MailKey key, String claimId) throws Refused {
        return underClaim(domain, claimId, lease -> {
            Mail mail = store.retrieve(domain, key).orElseThrow(() -> noSuchMail(domain, key));
            BounceCount count = new BounceCount();
            try {
                bounce(domain, key, mail, count);
            } catch (MessagingException | RuntimeException e) {
                throw bounceFailed(domain, key, count, e);
            } finally {
                LifecycleUtil.dispose(mail);
            }
            return count;
        });
    }

    public BounceCount bounceAll(Domain domain, String claimId) throws Refused {
        return underClaim(domain, claimId, lease -> {
            BounceCount count = new BounceCount();
            for (MailKey key : store.keys(domain)) {
                checkStillHeld(lease, domain, count.describe());
                Mail mail = null;
                try {
                    mail = store.retrieve(domain, key).orElse(null);
                    if (mail != null) {
                        bounce(domain, key, mail, count);
                    }
                } catch (MessagingException | RuntimeException e) {
                    // Stop at the first failure: a broken bounce processor would fail for every message.
                    throw bounceFailed(domain, key, count, e);
                } finally {
                    LifecycleUtil.dispose(mail);
                }
            }
            LOGGER.info("WebAdmin bounced the parked mail of {}: {}", domain.asString(), count.describe());
            return count;
        });
    }

    /**
     * The DSN request goes to the configured bounce processor first; the message is removed only
     * once that hand-over succeeded.
     */
    private void bounce(Domain domain, MailKey key, Mail mail, BounceCount count) throws MessagingException {
        if (!Bounces.returnToSender(mailetContext, mail, configuration.bounceProcessor(), Bounces.UNDEFINED_PERMANENT,
                "An operator of this mail server returned the message while it waited for the ATRN customer of "
                    + domain.asString() + " to collect it")) {
            store.remove(domain, key);
            count.removedWithoutBounce();
            return;
        }
        try {
            store.remove(domain, key);
        } catch (MessagingException e) {
            throw new BouncedNotRemoved(e);
        }
        count.bounced();
        metrics.bounced();
        LOGGER.info("WebAdmin bounced parked message {} of {} to {}", key.asString(), domain.asString(),
            mail.getMaybeSender().asString());
    }

    private static BounceFailed bounceFailed(Domain domain, MailKey key, BounceCount count, Exception e) {
        LOGGER.error("WebAdmin could not bounce parked message {} of {}", key.asString(), domain.asString(), e);
        return new BounceFailed(domain, key, count, e);
    }

    private <T> T read(StoreRead<T> reading) throws Refused {
        try {
            return reading.run();
        } catch (MessagingException e) {
            LOGGER.error("WebAdmin could not read parked mail", e);
            throw new Refused(Refused.Why.FAILED, "Could not read parked mail", e);
        }
    }

    private <T> T underClaim(Domain domain, String claimId, ClaimedChange<T> change) throws Refused {
        Optional<DomainLease> claim;
        try {
            claim = leases.claim(List.of(domain), DomainLeases.Purpose.WEBADMIN, claimId);
        } catch (DomainLeases.Unavailable e) {
            LOGGER.error("WebAdmin could not claim {}", domain.asString(), e.getCause());
            throw new Refused(Refused.Why.FAILED, "Could not claim " + domain.asString()
                + " (the claim store failed); nothing was changed", (Exception) e.getCause());
        }
        if (claim.isEmpty()) {
            throw new Refused(Refused.Why.BUSY, leases.busy(domain), null);
        }
        try (DomainLease lease = claim.get()) {
            return change.run(lease);
        } catch (MessagingException e) {
            LOGGER.error("WebAdmin could not change the parked mail of {}", domain.asString(), e);
            throw new Refused(Refused.Why.FAILED, "Could not change the parked mail of " + domain.asString(), e);
        }
    }

    private static void checkStillHeld(DomainLease lease, Domain domain, String doneSoFar) throws Refused {
        if (!lease.held()) {
            throw new Refused(Refused.Why.CLAIM_LOST, "Stopped after " + doneSoFar + ": the claim on " + domain.asString()
                + " could not be renewed, so another drainer may hold it now", null);
        }
    }
}
