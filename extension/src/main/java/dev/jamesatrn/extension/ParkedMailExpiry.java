package dev.jamesatrn.extension;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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

import dev.jamesatrn.mailets.AtrnConfiguration;
import dev.jamesatrn.mailets.AtrnMetrics;
import dev.jamesatrn.mailets.ParkedMailStore;
import dev.jamesatrn.mailets.ParkedNames;

/**
 * Parked mail does not wait forever: past {@code maxParkedLifetime} it is bounced to its sender
 * with a DSN (through the same bounce processor as a 5xx from the customer) and removed; past
 * {@code delayWarningAfter}, if set, the sender gets one "delayed" DSN. Null-sender mail is never
 * bounced or warned about, so bounces cannot loop.
 *
 * <p>A message's age is read from its key ({@link ParkedNames}), so a sweep reads only the
 * bodies that are due. A domain being drained is skipped this round: the claim keeps the sweep
 * and an ATRN session from touching the same message.
 */
public class ParkedMailExpiry {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkedMailExpiry.class);

    private final AtrnConfiguration configuration;
    private final ParkedMailStore store;
    private final DomainLeases leases;
    private final MailetContext mailetContext;
    private final AtrnMetrics metrics;
    private final ScheduledExecutorService scheduler;
    // Bounced but not removable (storage fault): not bounced a second time by this JVM.
    private final Set<String> bouncedNotRemoved = ConcurrentHashMap.newKeySet();

    @Inject
    public ParkedMailExpiry(AtrnConfiguration configuration, ParkedMailStore store, DomainLeases leases,
                            MailetContext mailetContext, AtrnMetrics metrics) {
        this.configuration = configuration;
        this.store = store;
        this.leases = leases;
        this.mailetContext = mailetContext;
        this.metrics = metrics;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "atrn-parked-mail-expiry");
            thread.setDaemon(true);
            return thread;
        });
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
            Optional<DomainLeases.DomainLease> claim;
            try {
                claim = leases.claimAll(List.of(domain), DomainLeases.Purpose.EXPIRY, "sweep");
            } catch (RuntimeException e) {
                LOGGER.warn("Cannot claim {} for the expiry sweep: {}", domain.asString(), e.getMessage());
                continue;
            }
            if (claim.isEmpty()) {
                continue;
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
    }

    private void check(Domain domain, MailKey key, Instant now) {
        AtrnConfiguration.Policies policies = configuration.policies();
        Optional<Instant> parkedAt = ParkedNames.parkedAt(key.asString());
        Mail mail = null;
        try {
            if (parkedAt.isEmpty()) {
                // not named by us (e.g. restored by an operator): its last update is the best age we have
                mail = store.retrieve(domain, key).orElse(null);
                if (mail == null) {
                    return;
                }
                parkedAt = Optional.of(mail.getLastUpdated().toInstant());
            }
            Duration age = Duration.between(parkedAt.get(), now);
            boolean expired = age.compareTo(policies.maxParkedLifetime()) > 0;
            boolean warn = !expired && !ParkedNames.warned(key.asString())
                && policies.delayWarningAfter().filter(after -> age.compareTo(after) > 0).isPresent();
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
            LOGGER.warn("Cannot check parked message {} of {} for expiry: {}", key.asString(), domain.asString(), e.getMessage());
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    private void expire(Domain domain, MailKey key, Mail mail, Duration age) throws MessagingException {
        if (mail.getMaybeSender().isNullSender()) {
            LOGGER.info("Parked {} for {} expired after {}; null sender, so removed without a bounce", key.asString(),
                domain.asString(), age);
        } else if (!bouncedNotRemoved.contains(key.asString())) {
            send(mail, configuration.bounceProcessor(), "Not collected by the ATRN customer of " + domain.asString()
                + " within " + configuration.policies().maxParkedLifetime() + "; giving up");
            bouncedNotRemoved.add(key.asString());
            LOGGER.info("Parked {} for {} expired after {}; bounced to {}", key.asString(), domain.asString(), age,
                mail.getMaybeSender().asString());
        }
        store.remove(domain, key);
        bouncedNotRemoved.remove(key.asString());
        metrics.expired();
    }

    private void warn(Domain domain, MailKey key, Mail mail, Duration age) throws MessagingException {
        if (!mail.getMaybeSender().isNullSender()) {
            send(mail, configuration.policies().delayWarningProcessor(), "Waiting for the ATRN customer of "
                + domain.asString() + " to collect it; will keep trying until " + configuration.policies().maxParkedLifetime()
                + " after parking");
            LOGGER.info("Sent a delay warning for {} parked {} ago for {}", key.asString(), age, domain.asString());
        }
        store.replace(domain, key, mail, true);
    }

    /** A copy goes to a mailet processor (DSNBounce); the parked message itself is not touched here. */
    private void send(Mail mail, String processor, String reason) throws MessagingException {
        Bounces.sendCopy(mailetContext, mail, processor, Bounces.EXPIRED, reason);
    }
}
