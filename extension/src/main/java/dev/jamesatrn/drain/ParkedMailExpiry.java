package dev.jamesatrn.drain;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.annotation.PreDestroy;
import javax.inject.Inject;
import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.core.DaemonThreads;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * Parked mail does not wait forever: past {@code maxParkedLifetime} it is bounced to its sender
 * with a DSN (through the same bounce processor as a 5xx from the customer) and removed; past
 * {@code delayWarningAfter}, if set, the sender gets one "delayed" DSN. Null-sender mail is never
 * bounced or warned about, so bounces cannot loop.
 *
 * <p>A message's age is read from its key ({@link ParkedMailStore#parkedAt}), so a sweep reads only the
 * bodies that are due, and claims only a domain where something is due. A domain being drained
 * is skipped this round: the claim keeps the sweep and an ATRN session from touching the same
 * message.
 */
public class ParkedMailExpiry {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkedMailExpiry.class);

    private final AtrnConfiguration configuration;
    private final ParkedMailStore store;
    private final DomainLeases leases;
    private final MailetContext mailetContext;
    private final AtrnMetrics metrics;
    private final ScheduledExecutorService scheduler;
    // Keys whose DSN went out but whose store change failed: a sweep never sends their DSN again,
    // it only retries the change (forgotten once the key is no longer parked, and at a restart).
    // Bounced, but not removable.
    private final PendingKeys bouncedNotRemoved = new PendingKeys();
    // Warned of the delay, but the copy marked warned could not be stored.
    private final PendingKeys warnedNotMarked = new PendingKeys();
    // Warned and a copy marked warned is stored, but this old copy could not be removed.
    private final PendingKeys replacedNotRemoved = new PendingKeys();

    @Inject
    public ParkedMailExpiry(AtrnConfiguration configuration, ParkedMailStore store, DomainLeases leases,
                            MailetContext mailetContext, AtrnMetrics metrics) {
        this.configuration = configuration;
        this.store = store;
        this.leases = leases;
        this.mailetContext = mailetContext;
        this.metrics = metrics;
        this.scheduler = DaemonThreads.scheduler("atrn-parked-mail-expiry");
        long every = configuration.policies().expiryCheckInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    public void stop() {
        scheduler.shutdownNow();
    }

    private void sweepQuietly() {
        try {
            sweep(Instant.now());
        } catch (RuntimeException e) {
            LOGGER.error("Parked-mail expiry sweep failed; it runs again in {}", configuration.policies().expiryCheckInterval(), e);
        }
    }

    void sweep(Instant now) {
        for (Domain domain : configuration.domains()) {
            sweep(domain, now);
        }
    }

    /**
     * Keys are listed first without a claim (a read): a domain where nothing is due is not
     * claimed, so the sweep neither costs a claim-store write per domain and interval nor gets
     * in the way of a customer's ATRN for nothing.
     */
    private void sweep(Domain domain, Instant now) {
        try {
            List<MailKey> keys = store.keys(domain);
            forgetGone(domain, keys);
            if (keys.stream().noneMatch(key -> due(domain, key, now))) {
                return;
            }
        } catch (MessagingException | RuntimeException e) {
            LOGGER.warn("Cannot list parked mail of {} for expiry: {}", domain.asString(), e.getMessage());
            return;
        }
        Optional<DomainLeases.DomainLease> claim;
        try {
            claim = leases.claim(List.of(domain), DomainLeases.Purpose.EXPIRY, "sweep");
        } catch (DomainLeases.Unavailable e) {
            LOGGER.warn("Cannot claim {} for the expiry sweep: {}", domain.asString(), e.getCause().getMessage());
            return;
        }
        if (claim.isEmpty()) {
            return;
        }
        try (DomainLeases.DomainLease lease = claim.get()) {
            for (MailKey key : store.keys(domain)) {
                if (!lease.held()) {
                    break;
                }
                check(domain, key, now);
            }
        } catch (MessagingException e) {
            LOGGER.warn("Cannot list parked mail of {} for expiry: {}", domain.asString(), e.getMessage());
        }
    }

    private void forgetGone(Domain domain, List<MailKey> keys) {
        Set<String> parked = keys.stream().map(MailKey::asString).collect(Collectors.toSet());
        bouncedNotRemoved.retainOnly(domain, parked);
        warnedNotMarked.retainOnly(domain, parked);
        replacedNotRemoved.retainOnly(domain, parked);
    }

    /** Whether the key needs the claim: something to do, or its age is not in its name. */
    private boolean due(Domain domain, MailKey key, Instant now) {
        String name = key.asString();
        if (bouncedNotRemoved.contains(domain, name) || warnedNotMarked.contains(domain, name)
            || replacedNotRemoved.contains(domain, name)) {
            return true;
        }
        Optional<Instant> parkedAt = ParkedMailStore.parkedAt(key);
        if (parkedAt.isEmpty()) {
            return true;
        }
        Duration age = Duration.between(parkedAt.get(), now);
        return expired(age) || warningDue(key, age);
    }

    private boolean expired(Duration age) {
        return age.compareTo(configuration.policies().maxParkedLifetime()) > 0;
    }

    private boolean warningDue(MailKey key, Duration age) {
        return !ParkedMailStore.warned(key)
            && configuration.policies().delayWarningAfter().filter(after -> age.compareTo(after) > 0).isPresent();
    }

    private void check(Domain domain, MailKey key, Instant now) {
        String name = key.asString();
        Optional<Instant> parkedAt = ParkedMailStore.parkedAt(key);
        Mail mail = null;
        try {
            if (replacedNotRemoved.contains(domain, name)) {
                // its copy marked warned is parked too, and is what the sweep looks at from now on
                store.remove(domain, key);
                replacedNotRemoved.remove(domain, name);
                LOGGER.info("Removed {} of {}, left over from recording its delay warning", name, domain.asString());
                return;
            }
            if (parkedAt.isEmpty()) {
                // not named by us (e.g. restored by an operator): its last update is the best age we have
                mail = store.retrieve(domain, key).orElse(null);
                if (mail == null) {
                    return;
                }
                parkedAt = Optional.of(mail.getLastUpdated().toInstant());
            }
            Duration age = Duration.between(parkedAt.get(), now);
            boolean expired = expired(age);
            boolean warn = !expired && warningDue(key, age);
            if (!expired && !warn) {
                return;
            }
            if (mail == null) {
                mail = store.retrieve(domain, key).orElse(null);
                if (mail == null) {
                    return;
                }
            }
            if (expired) {
                expire(domain, key, mail, age);
            } else {
                warn(domain, key, mail, age);
            }
        } catch (MessagingException | RuntimeException e) {
            LOGGER.warn("Cannot check parked message {} of {} for expiry: {}", name, domain.asString(), e.getMessage());
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    private void expire(Domain domain, MailKey key, Mail mail, Duration age) throws MessagingException {
        String name = key.asString();
        if (!bouncedNotRemoved.contains(domain, name)) {
            if (Bounces.returnToSender(mailetContext, mail, configuration.bounceProcessor(), Bounces.EXPIRED,
                    "Not collected by the ATRN customer of " + domain.asString() + " within "
                        + configuration.policies().maxParkedLifetime() + "; giving up")) {
                bouncedNotRemoved.add(domain, name);
                LOGGER.info("Parked {} for {} expired after {}; bounced to {}", name, domain.asString(), age,
                    mail.getMaybeSender().asString());
            } else {
                LOGGER.info("Parked {} for {} expired after {}; null sender, so removed without a bounce", name,
                    domain.asString(), age);
            }
        }
        store.remove(domain, key);
        bouncedNotRemoved.remove(domain, name);
        warnedNotMarked.remove(domain, name);
        metrics.expired();
    }

    /**
     * The "delayed" DSN goes out once: the flag that records it is part of the key, and changing
     * the key (a renamed copy stored, then the old one removed) can fail after the DSN is out.
     */
    private void warn(Domain domain, MailKey key, Mail mail, Duration age) {
        String name = key.asString();
        if (!warnedNotMarked.contains(domain, name)) {
            boolean sent;
            try {
                sent = Bounces.returnToSender(mailetContext, mail, configuration.policies().delayWarningProcessor(),
                    Bounces.EXPIRED, "Waiting for the ATRN customer of " + domain.asString()
                        + " to collect it; will keep trying until " + configuration.policies().maxParkedLifetime()
                        + " after parking");
            } catch (MessagingException | RuntimeException e) {
                LOGGER.warn("Cannot send the delay warning for {} of {}; trying again at the next sweep: {}", name,
                    domain.asString(), e.getMessage());
                return;
            }
            if (sent) {
                LOGGER.info("Sent a delay warning for {} parked {} ago for {}", name, age, domain.asString());
            }
            warnedNotMarked.add(domain, name);
        }
        try {
            store.markWarned(domain, key, mail);
            warnedNotMarked.remove(domain, name);
        } catch (ParkedMailStore.PartlyReplaced e) {
            warnedNotMarked.remove(domain, name);
            replacedNotRemoved.add(domain, name);
            LOGGER.warn("Recording the delay warning of {} of {} left two copies; the old one is removed at a later sweep, "
                + "without a second warning: {}", name, domain.asString(), e.getMessage());
        } catch (MessagingException | RuntimeException e) {
            LOGGER.warn("Cannot record the delay warning of {} of {} in the store; retried at each sweep, without a second "
                + "warning: {}", name, domain.asString(), e.getMessage());
        }
    }

    /** Keys per domain that sweeps must remember. */
    private static final class PendingKeys {
        private final Map<Domain, Set<String>> keys = new ConcurrentHashMap<>();

        boolean contains(Domain domain, String key) {
            return keys.getOrDefault(domain, Set.of()).contains(key);
        }

        void add(Domain domain, String key) {
            keys.computeIfAbsent(domain, d -> ConcurrentHashMap.newKeySet()).add(key);
        }

        void remove(Domain domain, String key) {
            Set<String> pending = keys.get(domain);
            if (pending != null) {
                pending.remove(key);
            }
        }

        void retainOnly(Domain domain, Set<String> parked) {
            Set<String> pending = keys.get(domain);
            if (pending != null) {
                pending.retainAll(parked);
            }
        }
    }
}
