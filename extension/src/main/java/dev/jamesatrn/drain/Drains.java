package dev.jamesatrn.drain;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.core.Domain;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.mailet.MailetContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * The steps every drain shares, written once: claim the domains, say who holds a busy one, count
 * what is parked, and run a {@link ParkedMailClient} with its timer, metrics, transfer slots and
 * this server's names. ATRN and ETRN drain through all of them; the expiry sweep and WebAdmin
 * claim through {@link #claim}. The texts of their refusals are spelled here, once, for the ATRN
 * and ETRN replies and the logs alike.
 */
@Singleton
public class Drains {
    private static final Logger LOGGER = LoggerFactory.getLogger(Drains.class);

    /** Why a drain cannot start; its message is the text for the reply (RFC 2645 451, RFC 1985 458). */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String text, Exception cause) {
            super(text, cause);
        }
    }

    private final AtrnConfiguration configuration;
    private final ParkedMailStore store;
    private final DomainLeases leases;
    private final MailetContext mailetContext;
    private final AtrnMetrics metrics;
    private final OdmrSessions sessions;
    private final OwnHostNames ownHostNames;

    @Inject
    public Drains(AtrnConfiguration configuration, ParkedMailStore store, DomainLeases leases, MailetContext mailetContext,
                  AtrnMetrics metrics, OdmrSessions sessions, OwnHostNames ownHostNames) {
        this.configuration = configuration;
        this.store = store;
        this.leases = leases;
        this.mailetContext = mailetContext;
        this.metrics = metrics;
        this.sessions = sessions;
        this.ownHostNames = ownHostNames;
    }

    /**
     * Every domain or none (RFC 2645: all listed domains, or none of them); empty when one is
     * held by someone else ({@link #busy} says who).
     *
     * @throws Refused when the claim store fails
     */
    public Optional<DomainLeases.DomainLease> claim(Collection<Domain> domains, DomainLeases.Purpose purpose, String id)
            throws Refused {
        try {
            return leases.claimAll(domains, purpose, id);
        } catch (RuntimeException e) {
            String names = domains.stream().map(Domain::asString).collect(Collectors.joining(","));
            throw new Refused("the claim on " + names + " cannot be taken now", e);
        }
    }

    /** Who holds the domains a claim was refused for, and what they are doing. */
    public String busy(Collection<Domain> domains) {
        List<String> reasons = new ArrayList<>();
        for (Domain domain : domains) {
            leases.busyText(domain).ifPresent(text -> reasons.add(isBusy(domain, text)));
        }
        return reasons.isEmpty() ? "a listed domain was claimed meanwhile" : String.join("; ", reasons);
    }

    /** "customer.example is being delivered by another ODMR session" and the like. */
    public static String isBusy(Domain domain, String busyText) {
        return domain.asString() + " is " + busyText;
    }

    /** For ETRN, which reads who holds a domain before it claims it (once a host accepted EHLO). */
    public static String cannotCheckClaim(Domain domain) {
        return "the claim on " + domain.asString() + " cannot be checked now";
    }

    /** What is parked for the domains, added up. */
    public long count(Collection<Domain> domains) throws Refused {
        long parked = 0;
        for (Domain domain : domains) {
            parked += count(domain);
        }
        return parked;
    }

    public long count(Domain domain) throws Refused {
        try {
            return store.count(domain);
        } catch (Exception e) {
            LOGGER.error("Cannot read parked mail of {}", domain.asString(), e);
            throw new Refused("parked mail of " + domain.asString() + " cannot be read now", e);
        }
    }

    /**
     * Delivers the parked mail of the domains {@code claimer} gives over {@code peer}, which is
     * closed at the end.
     *
     * @param parkedMeanwhile also mail parked while the drain runs (ATRN, see
     *                        {@link ParkedMailClient#deliveringMailParkedMeanwhile})
     */
    public ParkedMailClient.Outcome drain(SmtpPeer peer, ParkedMailClient.Claimer claimer, String helloName,
                                         boolean parkedMeanwhile) {
        TimeMetric timer = metrics.drainTimer();
        try {
            ParkedMailClient client = new ParkedMailClient(peer, claimer, configuration, store, mailetContext, helloName)
                .withOwnHostNames(ownHostNames.including(helloName)).withMetrics(metrics).withTransferSlots(sessions.transfers());
            if (parkedMeanwhile) {
                client.deliveringMailParkedMeanwhile();
            }
            return client.drain();
        } finally {
            timer.stopAndPublish();
        }
    }
}
