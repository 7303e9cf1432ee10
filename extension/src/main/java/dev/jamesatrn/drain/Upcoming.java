package dev.jamesatrn.drain;

import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.mailet.Mail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.store.ParkedMailStore;

/** A domain's messages still to try in one round of a drain, read one by one from the store. */
final class Upcoming {
    private static final Logger LOGGER = LoggerFactory.getLogger(Upcoming.class);

    private final ParkedMailStore store;
    private final DomainLeases.DomainLease lease;
    private final Domain domain;
    private final Iterator<MailKey> keys;
    private final Set<MailKey> tried;
    private final boolean parkedMeanwhile;
    private final Optional<ReturnedCopies> copies;
    private final Settlement settlement;
    private final TransferSlots.Holder slot;

    /**
     * @param tried  keys tried in this session, this round's added as they are read
     * @param copies when the drain also delivers mail parked meanwhile: what it read so far
     */
    Upcoming(ParkedMailStore store, DomainLeases.DomainLease lease, Domain domain, List<MailKey> fresh, Set<MailKey> tried,
             boolean parkedMeanwhile, Optional<ReturnedCopies> copies, Settlement settlement, TransferSlots.Holder slot) {
        this.store = store;
        this.lease = lease;
        this.domain = domain;
        this.keys = fresh.iterator();
        this.tried = tried;
        this.parkedMeanwhile = parkedMeanwhile;
        this.copies = copies;
        this.settlement = settlement;
        this.slot = slot;
    }

    /** The next readable message this drain may send, or null at the end of the round. */
    ParkedMessage poll() throws Broken {
        slot.work();
        while (keys.hasNext()) {
            MailKey key = keys.next();
            tried.add(key);
            checkClaim(lease, domain);
            ParkedMessage parked = load(key);
            if (parked != null && copies.map(read -> read.mayGo(domain, key, parked.mail(), parkedMeanwhile)).orElse(true)) {
                return parked;
            }
            if (parked != null) {
                LifecycleUtil.dispose(parked.mail());
            }
        }
        return null;
    }

    /** Nothing is read, sent or changed for a domain whose claim may have gone to another drainer. */
    static void checkClaim(DomainLeases.DomainLease lease, Domain domain) throws Broken {
        if (!lease.held()) {
            throw new Broken("the claim on " + domain.asString() + " was lost (lease lapsed or taken over); the rest stays parked");
        }
    }

    /** Null when the message is gone or cannot be read (it then stays parked for the operator). */
    private ParkedMessage load(MailKey key) {
        Mail mail = null;
        try {
            mail = store.retrieve(domain, key).orElse(null);
            return mail == null ? null : new ParkedMessage(key, mail, mail.getMessageSize(), false);
        } catch (MessagingException | RuntimeException e) {
            // One unreadable message must not hold back the rest of the domain: it stays parked
            // for the operator (WebAdmin /atrn) and the session goes on.
            LOGGER.error("Cannot read parked message {} of {}; it stays parked", key.asString(), domain.asString(), e);
            settlement.deferred();
            LifecycleUtil.dispose(mail);
            return null;
        }
    }
}
