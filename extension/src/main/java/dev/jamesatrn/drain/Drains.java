package dev.jamesatrn.drain;

import java.util.Collection;

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
 * The steps ATRN and ETRN share after the claim ({@link DomainLeases#claim}, which the expiry sweep
 * and WebAdmin use too): count what is parked, and run a {@link ParkedMailClient} with its timer,
 * metrics, transfer slots and this server's names. The text of a refusal is spelled here once,
 * for the ATRN and ETRN replies and the logs alike.
 */
@Singleton
public class Drains {
    private static final Logger LOGGER = LoggerFactory.getLogger(Drains.class);

    /** The parked mail cannot be read; the message is the text for the reply (RFC 2645 451, RFC 1985 458). */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String text, Exception cause) {
            super(text, cause);
        }
    }

    private final AtrnConfiguration configuration;
    private final ParkedMailStore store;
    private final MailetContext mailetContext;
    private final AtrnMetrics metrics;
    private final OdmrSessions sessions;
    private final OwnHostNames ownHostNames;

    @Inject
    public Drains(AtrnConfiguration configuration, ParkedMailStore store, MailetContext mailetContext, AtrnMetrics metrics,
                  OdmrSessions sessions, OwnHostNames ownHostNames) {
        this.configuration = configuration;
        this.store = store;
        this.mailetContext = mailetContext;
        this.metrics = metrics;
        this.sessions = sessions;
        this.ownHostNames = ownHostNames;
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
