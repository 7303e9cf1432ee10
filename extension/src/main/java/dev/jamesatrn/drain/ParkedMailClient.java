package dev.jamesatrn.drain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.base.MoreObjects;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.config.Timeouts;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer.Reply;
import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * James as SMTP client delivering a domain's parked mail: over the ATRN customer's own connection
 * (RFC 2645 section 5.3) or over a new connection after an ETRN (RFC 1985). Runs on a session
 * thread, never on an event loop. A parked message leaves the store only after the peer's 2xx
 * to end-of-data (or after its bounce went to James's bounce processor), and only while this
 * drain still holds its claim on the domain; anything else leaves it parked, with the
 * recipients still owed. The session's opening is {@link PeerHello}, what each transaction does
 * to the parked copy {@link Settlement}.
 */
public final class ParkedMailClient {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkedMailClient.class);

    /** What a drain did; {@code brokenBecause}: why it ended before everything was tried. */
    public static final class Outcome {
        private final int delivered;
        private final int deferred;
        private final int bounced;
        private final long bytes;
        private final Optional<String> brokenBecause;
        private final boolean loopsBack;

        public Outcome(int delivered, int deferred, int bounced, long bytes, Optional<String> brokenBecause, boolean loopsBack) {
            this.delivered = delivered;
            this.deferred = deferred;
            this.bounced = bounced;
            this.bytes = bytes;
            this.brokenBecause = brokenBecause;
            this.loopsBack = loopsBack;
        }

        public int delivered() {
            return delivered;
        }

        public int deferred() {
            return deferred;
        }

        public int bounced() {
            return bounced;
        }

        public long bytes() {
            return bytes;
        }

        public Optional<String> brokenBecause() {
            return brokenBecause;
        }

        /** The peer greeted or answered EHLO with a name of this server: nothing was sent. */
        public boolean loopsBack() {
            return loopsBack;
        }

        @Override
        public String toString() {
            return MoreObjects.toStringHelper(this).add("delivered", delivered).add("deferred", deferred)
                .add("bounced", bounced).add("bytes", bytes).add("brokenBecause", brokenBecause)
                .add("loopsBack", loopsBack).toString();
        }
    }

    /**
     * Gives the drain its claim once the peer has greeted and accepted EHLO. ATRN claims before
     * its 250 (RFC 2645 wants 451 for a busy domain); ETRN claims here, so that a relay that is
     * unreachable, silent or a loop never holds a domain an ATRN customer is asking for.
     */
    @FunctionalInterface
    public interface Claimer {
        DomainLeases.DomainLease claim() throws Broken;
    }

    private final SmtpPeer peer;
    private final Claimer claimer;
    private final Timeouts timeouts;
    private final ParkedMailStore store;
    private final MailetContext mailetContext;
    private final String bounceProcessor;
    private final String helloName;

    private Optional<AtrnMetrics> metrics = Optional.empty();
    private TransferSlots.Holder slot = TransferSlots.unlimited().holder();
    private Set<String> ownHostNames;
    private boolean deliversMailParkedMeanwhile;
    // Set by drain():
    private SmtpPeer customer;
    private DomainLeases.DomainLease lease;
    private PeerHello hello;
    private Settlement settlement;
    private long bytes;

    /** A drain under a claim already held (ATRN). */
    public ParkedMailClient(SmtpPeer customer, DomainLeases.DomainLease lease, AtrnConfiguration configuration,
                            ParkedMailStore store, MailetContext mailetContext, String helloName) {
        this(customer, () -> lease, configuration, store, mailetContext, helloName);
    }

    /** A drain that takes its claim from {@code claimer} once the peer has accepted EHLO (ETRN). */
    public ParkedMailClient(SmtpPeer customer, Claimer claimer, AtrnConfiguration configuration,
                            ParkedMailStore store, MailetContext mailetContext, String helloName) {
        this.peer = customer;
        this.claimer = claimer;
        this.ownHostNames = Set.of(OwnHostNames.normalize(helloName));
        this.timeouts = configuration.timeouts();
        this.store = store;
        this.mailetContext = mailetContext;
        this.bounceProcessor = configuration.bounceProcessor();
        this.helloName = helloName;
    }

    /**
     * Names that mean this server (see {@link OwnHostNames}): a peer greeting or answering EHLO
     * with one of them gets nothing, since the mail would only be parked here again.
     */
    public ParkedMailClient withOwnHostNames(Set<String> names) {
        Set<String> all = new HashSet<>(names);
        all.addAll(ownHostNames);
        this.ownHostNames = Set.copyOf(all);
        return this;
    }

    /**
     * Also delivers mail parked after the drain started (ATRN: a customer that polls now and then
     * gets what arrived meanwhile), except a copy this drain already read for the same domain,
     * with the same Message-ID and the same recipients, or one without a Message-ID: that may be
     * a copy of one it delivered, come back through the peer, and sending it again would loop until
     * James's RelayLimit destroys it. A loop brings back the very copy it got; one message for two
     * domains, or a mailing list sending one transaction per subscriber (VERP) under one
     * Message-ID, gives copies that differ in domain or recipients, and each is owed now
     * ({@link ReturnedCopies}). Without this (ETRN, where the loop is the known risk) only the
     * mail parked when the drain started goes out.
     */
    public ParkedMailClient deliveringMailParkedMeanwhile() {
        this.deliversMailParkedMeanwhile = true;
        return this;
    }

    /** Every drain's work shares these slots (see {@link TransferSlots}). */
    public ParkedMailClient withTransferSlots(TransferSlots slots) {
        this.slot = slots.holder();
        return this;
    }

    /** Counts every outcome in James's metrics as it happens, not only in the returned {@link Outcome}. */
    public ParkedMailClient withMetrics(AtrnMetrics atrnMetrics) {
        this.metrics = Optional.of(atrnMetrics);
        return this;
    }

    /** Every domain of the lease, in order; the connection is closed at the end. */
    public Outcome drain() {
        customer = new PacedPeer(peer, slot);
        hello = new PeerHello(customer, helloName, timeouts, ownHostNames);
        settlement = new Settlement(store, mailetContext, bounceProcessor, metrics, slot);
        Optional<String> broken = Optional.empty();
        try {
            hello.greeting();
            hello.hello();
            try {
                lease = claimer.claim();
            } catch (Broken e) {
                SmtpChat.quitQuietly(customer, timeouts.command());
                throw e;
            }
            slot.work();
            Map<Domain, List<MailKey>> parkedAtStart = new LinkedHashMap<>();
            for (Domain domain : lease.domains()) {
                parkedAtStart.put(domain, store.keys(domain));
            }
            Optional<ReturnedCopies> copies = deliversMailParkedMeanwhile ? Optional.of(new ReturnedCopies()) : Optional.empty();
            for (Domain domain : lease.domains()) {
                drainDomain(domain, parkedAtStart.get(domain), copies);
                // Everything of it is settled: its customer (or another drainer) need not wait
                // for the other domains of this session.
                lease.release(domain);
            }
            customer.send("QUIT");
            customer.await(timeouts.command(), "QUIT");
        } catch (Broken e) {
            broken = Optional.of(e.getMessage());
        } catch (MessagingException e) {
            LOGGER.error("Parked mail could not be read during an ATRN drain; the rest stays parked", e);
            broken = Optional.of("parked mail could not be read: " + e.getMessage());
            SmtpChat.quitQuietly(customer, timeouts.command());
        } finally {
            slot.idle();
            customer.close();
        }
        return new Outcome(settlement.deliveredCount(), settlement.deferredCount(), settlement.bouncedCount(), bytes, broken,
            hello.loopsBack());
    }

    /**
     * Every message parked when the drain started, then (with {@link #deliveringMailParkedMeanwhile})
     * what was parked while it ran, round after round; each message is tried once per session.
     */
    private void drainDomain(Domain domain, List<MailKey> parkedAtStart, Optional<ReturnedCopies> copies)
            throws Broken, MessagingException {
        Set<MailKey> tried = new HashSet<>();
        List<MailKey> fresh = parkedAtStart;
        boolean parkedMeanwhile = false;
        while (!fresh.isEmpty()) {
            Upcoming upcoming = new Upcoming(store, lease, domain, fresh, tried, parkedMeanwhile, copies, settlement, slot);
            ParkedMessage current = upcoming.poll();
            while (current != null) {
                ParkedMessage next;
                try {
                    next = transact(domain, current, upcoming);
                } finally {
                    LifecycleUtil.dispose(current.mail());
                }
                current = next != null ? next : upcoming.poll();
            }
            if (!deliversMailParkedMeanwhile) {
                return;
            }
            slot.work();
            fresh = store.keys(domain).stream().filter(key -> !tried.contains(key)).collect(Collectors.toUnmodifiableList());
            parkedMeanwhile = true;
        }
    }

    /**
     * One SMTP transaction for one parked message; recipients end up delivered, still owed or
     * refused. With PIPELINING, the next message is read from the store while the customer
     * handles this one's final dot, and its MAIL/RCPT/DATA go out as soon as the reply to the dot
     * has been read, before this message is removed from the store: the customer works on the
     * next envelope while James removes and logs. Nothing is sent before that reply is in, so a
     * customer that hangs up can never make us miss it (a reset would discard unread replies).
     */
    private ParkedMessage transact(Domain domain, ParkedMessage current, Upcoming upcoming) throws Broken, MessagingException {
        if (hello.offersPipelining() && !current.envelopeSent()) {
            customer.sendAll(envelope(current));
        }
        ParkedMessage[] next = {null};
        try {
            return transact(domain, current.key(), current.mail(), current.size(), upcoming, next);
        } catch (Broken | MessagingException | RuntimeException e) {
            if (next[0] != null) {
                LifecycleUtil.dispose(next[0].mail());
            }
            throw e;
        }
    }

    /** MAIL, every RCPT and DATA: one RFC 2920 group. */
    private List<String> envelope(ParkedMessage parked) {
        List<String> group = new ArrayList<>();
        group.add(mailFrom(parked.mail(), parked.size()));
        parked.mail().getRecipients().forEach(recipient -> group.add(rcptTo(recipient)));
        group.add("DATA");
        return group;
    }

    private ParkedMessage transact(Domain domain, MailKey key, Mail mail, long size, Upcoming upcoming, ParkedMessage[] next)
            throws Broken, MessagingException {
        boolean pipelining = hello.offersPipelining();
        List<MailAddress> recipients = new ArrayList<>(mail.getRecipients());
        List<MailAddress> accepted = new ArrayList<>();
        Settlement.Recipients outcome = new Settlement.Recipients();
        Reply lastFailure = null;
        Reply closing = null;
        boolean transactionOpen = false;
        String mailFrom = mailFrom(mail, size);

        Reply mailReply = next(mailFrom, timeouts.mail(), "MAIL FROM", SmtpChat.FINAL);
        if (mailReply.positive()) {
            transactionOpen = true;
        } else {
            outcome.sortOut(recipients, mailReply);
            lastFailure = mailReply;
        }
        for (MailAddress recipient : recipients) {
            if (!mailReply.positive() && !pipelining) {
                break;
            }
            Reply rcpt = next(rcptTo(recipient), timeouts.rcpt(), "RCPT TO", SmtpChat.FINAL);
            if (!mailReply.positive()) {
                continue; // the answer to a pipelined RCPT after a refused MAIL: nothing to learn
            }
            if (rcpt.positive()) {
                accepted.add(recipient);
            } else {
                outcome.sortOut(List.of(recipient), rcpt);
                lastFailure = rcpt;
            }
        }
        if (pipelining || !accepted.isEmpty()) {
            Reply data = next("DATA", timeouts.dataInitiation(), "DATA", SmtpChat.START_INPUT);
            if (data.code() == 354 && accepted.isEmpty()) {
                // RFC 2920 section 3.1: a server that says 354 with no recipient gets an empty message
                customer.send(".");
                Reply end = SmtpChat.expect(customer.await(timeouts.dataTermination(), "end of empty data"), "end of data",
                    SmtpChat.FINAL);
                transactionOpen = false;
                closing = end.code() == 421 ? end : null;
            } else if (data.code() == 354) {
                Reply end = sendBody(mail, upcoming, next);
                transactionOpen = false;
                closing = end.code() == 421 ? end : null;
                if (end.positive()) {
                    settlement.delivered();
                    LOGGER.info("Delivered {} for {} to the ATRN customer ({} recipient(s)): {}", key.asString(),
                        domain.asString(), accepted.size(), SmtpPeer.abbreviate(end.text()));
                } else {
                    outcome.sortOut(accepted, end);
                    lastFailure = end;
                }
            } else if (!accepted.isEmpty()) {
                outcome.sortOut(accepted, data);
                lastFailure = data;
            }
        }
        if (transactionOpen) {
            SmtpChat.command(customer, "RSET", timeouts.command(), "RSET", SmtpChat.FINAL);
        }
        // Without the claim another drainer may be sending this very message: leaving it as it is
        // risks one duplicate, changing it could lose or multiply recipients.
        Upcoming.checkClaim(lease, domain);
        try {
            settlement.settle(domain, key, mail, outcome, lastFailure);
        } catch (MessagingException e) {
            if (next[0] != null && next[0].envelopeSent()) {
                // The next message's MAIL/RCPT/DATA are already out: a QUIT now could land in its
                // data, so the connection is dropped, which aborts that transaction (RFC 5321 4.1.1.4).
                LOGGER.error("Delivered {} could not be settled in the store; it stays parked", key.asString(), e);
                throw new Broken("the store failed after a delivery (" + e.getMessage() + "); connection dropped, the rest stays parked");
            }
            throw e;
        }
        if (closing != null) {
            // RFC 5321 section 3.8: the customer is closing the connection; the message was
            // settled (kept parked) above, and nothing more may be sent.
            throw SmtpChat.closingSession(closing);
        }
        return next[0];
    }

    private static String rcptTo(MailAddress recipient) {
        return "RCPT TO:<" + recipient.asString() + ">";
    }

    /** The reply to the next command: sent now, or already sent in a pipelined group. */
    private Reply next(String line, Duration timeout, String name, Set<Integer> expected) throws Broken {
        if (hello.offersPipelining()) {
            return SmtpChat.checked(customer.await(timeout, name), name, expected);
        }
        return SmtpChat.command(customer, line, timeout, name, expected);
    }

    private String mailFrom(Mail mail, long size) {
        StringBuilder command = new StringBuilder("MAIL FROM:<")
            .append(mail.getMaybeSender().asOptional().map(MailAddress::asString).orElse(""))
            .append(">");
        if (hello.offersSize()) {
            command.append(" SIZE=").append(size);
        }
        if (hello.offers8BitMime()) {
            command.append(" BODY=8BITMIME");
        }
        return command.toString();
    }

    /** The body and its final dot; then, with PIPELINING, the next message is read and its envelope sent after the reply. */
    private Reply sendBody(Mail mail, Upcoming upcoming, ParkedMessage[] next) throws Broken {
        bytes += MessageData.send(customer, mail, timeouts.dataBlock(), slot);
        if (hello.offersPipelining()) {
            next[0] = upcoming.poll();
        }
        Reply end = SmtpChat.expect(customer.await(timeouts.dataTermination(), "end of data"), "end of data", SmtpChat.FINAL);
        if (next[0] != null && end.code() != 421) {
            customer.sendAll(envelope(next[0]));
            next[0] = next[0].withEnvelopeSent();
        }
        return end;
    }
}
