package dev.jamesatrn.drain;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import javax.mail.MessagingException;
import javax.mail.internet.MimeMessage;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.server.core.MimeMessageWrapper;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.hash.HashCode;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;

import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer.Reply;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.store.ParkedMailStore;
import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.smtp.DotStuffingOutputStream;
import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.config.Timeouts;

/**
 * James as SMTP client delivering a domain's parked mail: over the ATRN customer's own connection
 * (RFC 2645 section 5.3) or over a new connection after an ETRN (RFC 1985). Runs on a session
 * thread, never on an event loop. A parked message leaves the store only after the peer's 2xx
 * to end-of-data (or after its bounce went to James's bounce processor), and only while this
 * drain still holds its claim on the domain; anything else leaves it parked, with the
 * recipients still owed.
 */
public final class ParkedMailClient {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkedMailClient.class);

    public static final class Outcome {
        private final int delivered;
        private final int deferred;
        private final int bounced;
        private final long bytes;
        private final Optional<String> brokenBecause;
        private final boolean loopsBack;

        public Outcome(int delivered, int deferred, int bounced, long bytes, Optional<String> brokenBecause) {
            this(delivered, deferred, bounced, bytes, brokenBecause, false);
        }

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
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Outcome)) {
                return false;
            }
            Outcome other = (Outcome) o;
            return delivered == other.delivered && deferred == other.deferred && bounced == other.bounced
                && bytes == other.bytes && Objects.equals(brokenBecause, other.brokenBecause) && loopsBack == other.loopsBack;
        }

        @Override
        public int hashCode() {
            return Objects.hash(delivered, deferred, bounced, bytes, brokenBecause, loopsBack);
        }

        @Override
        public String toString() {
            return "Outcome[delivered=" + delivered + ", deferred=" + deferred + ", bounced=" + bounced + ", bytes=" + bytes
                + ", brokenBecause=" + brokenBecause + ", loopsBack=" + loopsBack + "]";
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

    // Message bytes are read and sent in pieces of this size: memory per session stays bounded.
    private static final int CHUNK_SIZE = 64 * 1024;
    // How much of the customer's reply a DSN quotes: a multi-line 5xx text in full, never a flood.
    private static final int DSN_REPLY_EXCERPT = 1000;

    private final SmtpPeer customer;
    private final Claimer claimer;
    private DomainLeases.DomainLease lease;
    private final Timeouts timeouts;
    private final ParkedMailStore store;
    private final MailetContext mailetContext;
    private final String bounceProcessor;
    private final String helloName;

    private Optional<AtrnMetrics> metrics = Optional.empty();
    private TransferSlots.Holder slot = TransferSlots.unlimited().holder();
    private Set<String> ownHostNames;
    private boolean deliversMailParkedMeanwhile;
    private boolean loopsBack;
    // (domain, Message-ID, recipients) of each copy this drain read, hashed: bounded memory whatever
    // a sender wrote (see copyOf).
    private final Set<HashCode> copiesRead = new HashSet<>();
    private boolean offersSize;
    private boolean offers8BitMime;
    private boolean offersPipelining;
    private int delivered;
    private int deferred;
    private int bounced;
    private long bytes;

    /** A drain under a claim already held (ATRN). */
    public ParkedMailClient(SmtpPeer customer, DomainLeases.DomainLease lease, AtrnConfiguration configuration,
                            ParkedMailStore store, MailetContext mailetContext, String helloName) {
        this(customer, () -> lease, configuration, store, mailetContext, helloName);
    }

    /** A drain that takes its claim from {@code claimer} once the peer has accepted EHLO (ETRN). */
    public ParkedMailClient(SmtpPeer customer, Claimer claimer, AtrnConfiguration configuration,
                            ParkedMailStore store, MailetContext mailetContext, String helloName) {
        this.customer = new Paced(customer);
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
     * Message-ID, gives copies that differ in domain or recipients, and each is owed now. Without
     * this (ETRN, where the loop is the known risk) only the mail parked when the drain started
     * goes out.
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

    private void countDelivered() {
        delivered++;
        metrics.ifPresent(AtrnMetrics::delivered);
    }

    private void countDeferred() {
        deferred++;
        metrics.ifPresent(AtrnMetrics::deferred);
    }

    private void countBounced() {
        bounced++;
        metrics.ifPresent(AtrnMetrics::bounced);
    }

    /** Every domain of the lease, in order; the connection is closed at the end. */
    public Outcome drain() {
        Optional<String> broken = Optional.empty();
        try {
            Reply greeting = customer.await(timeouts.greeting(), "the 220 greeting");
            if (greeting.code() != 220) {
                throw new Broken("the customer greeted with " + SmtpPeer.abbreviate(greeting.text()));
            }
            refuseOwnName(greeting, "greeted");
            hello();
            try {
                lease = claimer.claim();
            } catch (Broken e) {
                quitQuietly();
                throw e;
            }
            slot.work();
            Map<Domain, List<MailKey>> parkedAtStart = new LinkedHashMap<>();
            for (Domain domain : lease.domains()) {
                parkedAtStart.put(domain, store.keys(domain));
            }
            for (Domain domain : lease.domains()) {
                drainDomain(domain, parkedAtStart.get(domain));
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
            quitQuietly();
        } finally {
            slot.idle();
            customer.close();
        }
        return new Outcome(delivered, deferred, bounced, bytes, broken, loopsBack);
    }

    /**
     * RFC 5321 4.2 and 4.1.1.1: the greeting and the EHLO reply start with the server's own name.
     * Ours means the mail would come back here and be parked again (Postfix: "mail for X loops
     * back to myself"), whatever address led there: NAT, a load balancer, another cluster node.
     */
    private void refuseOwnName(Reply reply, String how) throws Broken {
        String first = reply.lines().get(0);
        String name = first.length() > 4 ? OwnHostNames.normalize(first.substring(4).trim().split("\\s+", 2)[0]) : "";
        if (ownHostNames.contains(name)) {
            loopsBack = true;
            quitQuietly();
            throw new Broken("the peer " + how + " as " + SmtpPeer.abbreviate(name) + ", a name of this server: the mail would loop back here");
        }
    }

    private void hello() throws Broken {
        Reply ehlo = command("EHLO " + helloName, timeouts.command(), "EHLO", FINAL);
        if (ehlo.positive()) {
            refuseOwnName(ehlo, "answered EHLO");
            Set<String> keywords = keywords(ehlo);
            if (keywords.contains("STARTTLS") && customer.canStartTls()) {
                Reply starttls = command("STARTTLS", timeouts.command(), "STARTTLS", FINAL);
                if (starttls.code() == 220) {
                    customer.startTls();
                    // RFC 3207 section 4.2: forget everything learnt before TLS and ask again.
                    Reply again = command("EHLO " + helloName, timeouts.command(), "EHLO", FINAL);
                    if (!again.positive()) {
                        throw new Broken("the peer refused EHLO after STARTTLS: " + SmtpPeer.abbreviate(again.text()));
                    }
                    keywords = keywords(again);
                }
            }
            offersSize = keywords.contains("SIZE");
            offers8BitMime = keywords.contains("8BITMIME");
            offersPipelining = keywords.contains("PIPELINING");
            return;
        }
        Reply helo = command("HELO " + helloName, timeouts.command(), "HELO", FINAL);
        if (!helo.positive()) {
            throw new Broken("the customer refused EHLO and HELO: " + SmtpPeer.abbreviate(helo.text()));
        }
        refuseOwnName(helo, "answered HELO");
    }

    private static Set<String> keywords(Reply ehlo) {
        return ehlo.lines().stream().skip(1)
            .map(line -> line.length() > 4 ? line.substring(4).trim() : "")
            .map(keyword -> keyword.split("\\s+")[0].toUpperCase(Locale.ROOT))
            .collect(Collectors.toSet());
    }

    /** A parked message read from the store; {@code envelopeSent}: its MAIL/RCPT/DATA already went out. */
    private static final class Parked {
        private final MailKey key;
        private final Mail mail;
        private final long size;
        private final boolean envelopeSent;

        Parked(MailKey key, Mail mail, long size, boolean envelopeSent) {
            this.key = key;
            this.mail = mail;
            this.size = size;
            this.envelopeSent = envelopeSent;
        }

        MailKey key() {
            return key;
        }

        Mail mail() {
            return mail;
        }

        long size() {
            return size;
        }

        boolean envelopeSent() {
            return envelopeSent;
        }

        Parked withEnvelopeSent() {
            return new Parked(key, mail, size, true);
        }
    }

    /** The domain's messages still to try in this round, read one by one from the store. */
    private final class Upcoming {
        private final Domain domain;
        private final Iterator<MailKey> keys;
        private final Set<MailKey> tried;
        private final boolean parkedMeanwhile;

        Upcoming(Domain domain, List<MailKey> fresh, Set<MailKey> tried, boolean parkedMeanwhile) {
            this.domain = domain;
            this.keys = fresh.iterator();
            this.tried = tried;
            this.parkedMeanwhile = parkedMeanwhile;
        }

        /** The next readable message this drain may send, or null at the end of the round. */
        Parked poll() throws Broken {
            slot.work();
            while (keys.hasNext()) {
                MailKey key = keys.next();
                tried.add(key);
                checkClaim(domain);
                Parked parked = load(domain, key);
                if (parked != null && firstOfItsKind(domain, parked, parkedMeanwhile)) {
                    return parked;
                }
                if (parked != null) {
                    LifecycleUtil.dispose(parked.mail());
                }
            }
            return null;
        }
    }

    /**
     * Every message parked when the drain started, then (with {@link #deliveringMailParkedMeanwhile})
     * what was parked while it ran, round after round; each message is tried once per session.
     */
    private void drainDomain(Domain domain, List<MailKey> parkedAtStart) throws Broken, MessagingException {
        Set<MailKey> tried = new HashSet<>();
        List<MailKey> fresh = parkedAtStart;
        boolean parkedMeanwhile = false;
        while (!fresh.isEmpty()) {
            Upcoming upcoming = new Upcoming(domain, fresh, tried, parkedMeanwhile);
            Parked current = upcoming.poll();
            while (current != null) {
                Parked next;
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
     * False for mail parked meanwhile that may be a copy of a message this drain sent (see
     * {@link #deliveringMailParkedMeanwhile}): it stays parked for the next session.
     */
    private boolean firstOfItsKind(Domain domain, Parked parked, boolean parkedMeanwhile) {
        if (!deliversMailParkedMeanwhile) {
            return true;
        }
        Optional<HashCode> copy = copyOf(domain, parked.mail());
        if (!parkedMeanwhile) {
            copy.ifPresent(copiesRead::add);
            return true;
        }
        if (copy.isEmpty()) {
            LOGGER.info("Left {} of {} parked for the next session: it was parked while this one ran, and without a "
                + "Message-ID it cannot be told from a copy of a message sent in it", parked.key().asString(), domain.asString());
            return false;
        }
        if (!copiesRead.add(copy.get())) {
            LOGGER.warn("Left {} of {} parked for the next session: a copy with its Message-ID and recipients was already "
                + "sent in this one and came back while it ran (a mail loop through the customer's MTA?)", parked.key().asString(),
                domain.asString());
            return false;
        }
        return true;
    }

    /**
     * What a looping copy shares with the one sent: its domain, its Message-ID and its recipients
     * (in any order, any case). SHA-256, since the sender chooses all of it: a collision made on
     * purpose would hold a stranger's message back.
     */
    private static Optional<HashCode> copyOf(Domain domain, Mail mail) {
        Optional<String> messageId;
        try {
            messageId = Optional.ofNullable(mail.getMessage().getMessageID()).map(String::trim).filter(id -> !id.isEmpty());
        } catch (MessagingException | RuntimeException e) {
            return Optional.empty();
        }
        return messageId.map(id -> {
            Hasher hasher = Hashing.sha256().newHasher();
            putPart(hasher, domain.asString());
            putPart(hasher, id);
            mail.getRecipients().stream()
                .map(recipient -> recipient.asString().toLowerCase(Locale.ROOT))
                .sorted()
                .distinct()
                .forEach(recipient -> putPart(hasher, recipient));
            return hasher.hash();
        });
    }

    /** Length first: no two different lists of parts hash the same bytes. */
    private static void putPart(Hasher hasher, String part) {
        byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
        hasher.putInt(bytes.length).putBytes(bytes);
    }

    /** Nothing is read, sent or changed for a domain whose claim may have gone to another drainer. */
    private void checkClaim(Domain domain) throws Broken {
        if (!lease.held()) {
            throw new Broken("the claim on " + domain.asString() + " was lost (lease lapsed or taken over); the rest stays parked");
        }
    }

    /** Null when the message is gone or cannot be read (it then stays parked for the operator). */
    private Parked load(Domain domain, MailKey key) {
        Mail mail = null;
        try {
            mail = store.retrieve(domain, key).orElse(null);
            return mail == null ? null : new Parked(key, mail, mail.getMessageSize(), false);
        } catch (MessagingException | RuntimeException e) {
            // One unreadable message must not hold back the rest of the domain: it stays parked
            // for the operator (WebAdmin /atrn) and the session goes on.
            LOGGER.error("Cannot read parked message {} of {}; it stays parked", key.asString(), domain.asString(), e);
            countDeferred();
            LifecycleUtil.dispose(mail);
            return null;
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
    private Parked transact(Domain domain, Parked current, Upcoming upcoming) throws Broken, MessagingException {
        if (offersPipelining && !current.envelopeSent()) {
            customer.sendAll(envelope(current));
        }
        Parked[] next = {null};
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
    private List<String> envelope(Parked parked) {
        List<String> group = new ArrayList<>();
        group.add(mailFrom(parked.mail(), parked.size()));
        parked.mail().getRecipients().forEach(recipient -> group.add(rcptTo(recipient)));
        group.add("DATA");
        return group;
    }

    private Parked transact(Domain domain, MailKey key, Mail mail, long size, Upcoming upcoming, Parked[] next)
            throws Broken, MessagingException {
        List<MailAddress> recipients = new ArrayList<>(mail.getRecipients());
        List<MailAddress> accepted = new ArrayList<>();
        List<MailAddress> stillOwed = new ArrayList<>();
        Map<MailAddress, Reply> refused = new LinkedHashMap<>();
        Reply lastFailure = null;
        Reply closing = null;
        boolean transactionOpen = false;
        String mailFrom = mailFrom(mail, size);

        Reply mailReply = next(mailFrom, timeouts.mail(), "MAIL FROM", FINAL);
        if (mailReply.positive()) {
            transactionOpen = true;
        } else {
            sortOut(recipients, mailReply, stillOwed, refused);
            lastFailure = mailReply;
        }
        for (MailAddress recipient : recipients) {
            if (!mailReply.positive() && !offersPipelining) {
                break;
            }
            Reply rcpt = next(rcptTo(recipient), timeouts.rcpt(), "RCPT TO", FINAL);
            if (!mailReply.positive()) {
                continue; // the answer to a pipelined RCPT after a refused MAIL: nothing to learn
            }
            if (rcpt.positive()) {
                accepted.add(recipient);
            } else {
                sortOut(List.of(recipient), rcpt, stillOwed, refused);
                lastFailure = rcpt;
            }
        }
        if (offersPipelining || !accepted.isEmpty()) {
            Reply data = next("DATA", timeouts.dataInitiation(), "DATA", START_INPUT);
            if (data.code() == 354 && accepted.isEmpty()) {
                // RFC 2920 section 3.1: a server that says 354 with no recipient gets an empty message
                customer.send(".");
                Reply end = expect(customer.await(timeouts.dataTermination(), "end of empty data"), "end of data", FINAL);
                transactionOpen = false;
                closing = end.code() == 421 ? end : null;
            } else if (data.code() == 354) {
                Reply end = sendBody(mail, upcoming, next);
                transactionOpen = false;
                closing = end.code() == 421 ? end : null;
                if (end.positive()) {
                    countDelivered();
                    LOGGER.info("Delivered {} for {} to the ATRN customer ({} recipient(s)): {}", key.asString(),
                        domain.asString(), accepted.size(), SmtpPeer.abbreviate(end.text()));
                } else {
                    sortOut(accepted, end, stillOwed, refused);
                    lastFailure = end;
                }
            } else if (!accepted.isEmpty()) {
                sortOut(accepted, data, stillOwed, refused);
                lastFailure = data;
            }
        }
        if (transactionOpen) {
            command("RSET", timeouts.command(), "RSET", FINAL);
        }
        // Without the claim another drainer may be sending this very message: leaving it as it is
        // risks one duplicate, changing it could lose or multiply recipients.
        checkClaim(domain);
        try {
            settle(domain, key, mail, refused, stillOwed, lastFailure);
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
            throw closingSession(closing);
        }
        return next[0];
    }

    private static String rcptTo(MailAddress recipient) {
        return "RCPT TO:<" + recipient.asString() + ">";
    }

    /** The reply to the next command: sent now, or already sent in a pipelined group. */
    private Reply next(String line, Duration timeout, String name, Set<Integer> expected) throws Broken {
        if (offersPipelining) {
            return checked(customer.await(timeout, name), name, expected);
        }
        return command(line, timeout, name, expected);
    }

    private static void sortOut(Collection<MailAddress> recipients, Reply reply, List<MailAddress> stillOwed,
                                Map<MailAddress, Reply> refused) {
        for (MailAddress recipient : recipients) {
            if (reply.transientFailure()) {
                stillOwed.add(recipient);
            } else {
                refused.put(recipient, reply);
            }
        }
    }

    private String mailFrom(Mail mail, long size) {
        StringBuilder command = new StringBuilder("MAIL FROM:<")
            .append(mail.getMaybeSender().asOptional().map(MailAddress::asString).orElse(""))
            .append(">");
        if (offersSize) {
            command.append(" SIZE=").append(size);
        }
        if (offers8BitMime) {
            command.append(" BODY=8BITMIME");
        }
        return command.toString();
    }

    /** The body and its final dot; then, with PIPELINING, the next message is read and its envelope sent after the reply. */
    private Reply sendBody(Mail mail, Upcoming upcoming, Parked[] next) throws Broken {
        // The slot covers reading the store and dot-stuffing, not the wait for room to write.
        DotStuffingOutputStream body = new DotStuffingOutputStream((chunk, length) -> {
            customer.sendData(chunk, length, timeouts.dataBlock());
            slot.work();
        }, CHUNK_SIZE);
        slot.work();
        try {
            writeMessage(mail.getMessage(), body);
            body.finishWithEndOfData();
        } catch (DotStuffingOutputStream.BrokenWhileWriting e) {
            throw e.cause;
        } catch (IOException | MessagingException | RuntimeException e) {
            // The customer already has part of the message: the only safe end is to drop the
            // connection before the final dot (RFC 5321 section 4.1.1.4), leaving it parked.
            // (James's file streams report a file that vanished as a RuntimeException.)
            throw new Broken("parked message " + mail.getName() + " unreadable mid-DATA (" + e.getMessage()
                + "); connection dropped");
        }
        bytes += body.bytesWritten();
        if (offersPipelining) {
            next[0] = upcoming.poll();
        }
        Reply end = expect(customer.await(timeouts.dataTermination(), "end of data"), "end of data", FINAL);
        if (next[0] != null && end.code() != 421) {
            customer.sendAll(envelope(next[0]));
            next[0] = next[0].withEnvelopeSent();
        }
        return end;
    }

    /**
     * The stored bytes themselves when James holds the message unchanged (a MimeMessageWrapper
     * over the repository's stream): MimeMessage.writeTo would first parse every header and
     * write it out again, which thread dumps of the benchmark showed as the drain's main cost.
     */
    private static void writeMessage(MimeMessage message, OutputStream out) throws IOException, MessagingException {
        if (message instanceof MimeMessageWrapper) {
            MimeMessageWrapper wrapper = (MimeMessageWrapper) message;
            if (!wrapper.isModified()) {
                try (InputStream in = wrapper.getMessageInputStream()) {
                    in.transferTo(out);
                }
                return;
            }
        }
        message.writeTo(out);
    }

    /** Reply classes a command may get; anything else means the two ends no longer agree. */
    private static final Set<Integer> FINAL = Set.of(2, 4, 5);
    private static final Set<Integer> START_INPUT = Set.of(3, 4, 5);

    private Reply command(String line, Duration timeout, String name, Set<Integer> expected) throws Broken {
        customer.send(line);
        return checked(customer.await(timeout, name), name, expected);
    }

    private static Reply checked(Reply reply, String name, Set<Integer> expected) throws Broken {
        if (reply.code() == 421) {
            throw closingSession(reply);
        }
        return expect(reply, name, expected);
    }

    private static Broken closingSession(Reply reply) {
        return new Broken("the customer is closing the session: " + SmtpPeer.abbreviate(reply.text()));
    }

    private static Reply expect(Reply reply, String name, Set<Integer> expected) throws Broken {
        if (!expected.contains(reply.code() / 100) || (reply.code() / 100 == 3 && reply.code() != 354)) {
            throw new Broken("unexpected reply to " + name + ": " + SmtpPeer.abbreviate(reply.text()));
        }
        return reply;
    }

    /** Applies the outcome of one transaction to the parked copy. */
    private void settle(Domain domain, MailKey key, Mail mail, Map<MailAddress, Reply> refused, List<MailAddress> stillOwed,
                        Reply lastFailure) throws Broken, MessagingException {
        slot.work();
        List<MailAddress> owedAfter = new ArrayList<>(stillOwed);
        // One bounce per distinct reply, so each refused recipient's DSN quotes its own reason.
        Map<Reply, List<MailAddress>> byReason = new LinkedHashMap<>();
        refused.forEach((recipient, reply) -> byReason.computeIfAbsent(reply, r -> new ArrayList<>()).add(recipient));
        for (Map.Entry<Reply, List<MailAddress>> entry : byReason.entrySet()) {
            if (bounce(mail, entry.getValue(), entry.getKey())) {
                countBounced();
            } else {
                owedAfter.addAll(entry.getValue());
            }
        }
        if (owedAfter.isEmpty()) {
            store.remove(domain, key);
            return;
        }
        countDeferred();
        if (!Set.copyOf(owedAfter).equals(Set.copyOf(mail.getRecipients()))) {
            store.replaceRecipients(domain, key, mail, owedAfter);
        }
        LOGGER.info("Kept {} for {} parked for {} recipient(s): {}", key.asString(), domain.asString(), owedAfter.size(),
            lastFailure == null ? "" : SmtpPeer.abbreviate(lastFailure.text()));
    }

    private boolean bounce(Mail mail, Collection<MailAddress> recipients, Reply reason) {
        try {
            Bounces.sendCopy(mailetContext, mail, recipients, bounceProcessor,
                reason.enhancedStatus().orElse(Bounces.UNDEFINED_PERMANENT),
                "The ATRN customer refused the message: " + SmtpPeer.abbreviate(reason.text(), DSN_REPLY_EXCERPT));
            LOGGER.info("Bounced {} for {} recipient(s): {}", mail.getName(), recipients.size(),
                SmtpPeer.abbreviate(reason.text()));
            return true;
        } catch (MessagingException | RuntimeException e) {
            LOGGER.error("Could not hand {} to the '{}' processor for a bounce; it stays parked", mail.getName(),
                bounceProcessor, e);
            return false;
        }
    }

    /**
     * The peer, giving the transfer slot back before every call: each may wait on the network
     * (a reply, room to write), and a slot is for James's own work only.
     */
    private final class Paced implements SmtpPeer {
        private final SmtpPeer peer;

        Paced(SmtpPeer peer) {
            this.peer = peer;
        }

        @Override
        public void sendAll(List<String> commandLines) throws Broken {
            slot.idle();
            peer.sendAll(commandLines);
        }

        @Override
        public Reply await(Duration timeout, String awaiting) throws Broken {
            slot.idle();
            return peer.await(timeout, awaiting);
        }

        @Override
        public void sendData(byte[] chunk, int length, Duration timeout) throws Broken {
            slot.idle();
            peer.sendData(chunk, length, timeout);
        }

        @Override
        public void close() {
            slot.idle();
            peer.close();
        }

        @Override
        public boolean canStartTls() {
            return peer.canStartTls();
        }

        @Override
        public void startTls() throws Broken {
            slot.idle();
            peer.startTls();
        }

        @Override
        public boolean isTls() {
            return peer.isTls();
        }
    }

    private void quitQuietly() {
        try {
            customer.send("QUIT");
            customer.await(timeouts.command(), "QUIT");
        } catch (Broken e) {
            LOGGER.debug("QUIT after a storage error failed: {}", e.getMessage());
        }
    }
}
