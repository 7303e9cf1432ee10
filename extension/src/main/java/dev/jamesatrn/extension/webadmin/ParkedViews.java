package dev.jamesatrn.extension.webadmin;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

import javax.mail.MessagingException;
import javax.mail.internet.MimeMessage;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.mailet.Mail;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.store.ParkedMailStore;
import dev.jamesatrn.store.ParkedNames;

/**
 * What the WebAdmin routes show of parked mail, as JSON-ready values, and how it is read. James's
 * Jackson sees no getters in {@code domain()}-style accessors, so each one names its property and
 * each class fixes their order: the JSON stays what it was when these were records.
 */
final class ParkedViews {

    /**
     * One ATRN domain. {@code drainingNow} is true while anyone holds the domain's claim (an ATRN
     * or ETRN session, the expiry sweep or another WebAdmin call: each may take mail out);
     * {@code claimedFor} says which, {@code claimedBy} is the raw owner (node, purpose, id).
     */
    @JsonPropertyOrder({"domain", "logins", "parkedMessages", "parkedBytes", "oldestParkedAt", "oldestAgeSeconds",
        "drainingNow", "claimedFor", "claimedBy"})
    static final class DomainView {
        private final String domain;
        private final List<String> logins;
        private final long parkedMessages;
        private final long parkedBytes;
        private final Optional<Instant> oldestParkedAt;
        private final Optional<Long> oldestAgeSeconds;
        private final boolean drainingNow;
        private final Optional<String> claimedFor;
        private final Optional<String> claimedBy;

        DomainView(String domain, List<String> logins, long parkedMessages, long parkedBytes,
                   Optional<Instant> oldestParkedAt, Optional<Long> oldestAgeSeconds,
                   boolean drainingNow, Optional<String> claimedFor, Optional<String> claimedBy) {
            this.domain = domain;
            this.logins = logins;
            this.parkedMessages = parkedMessages;
            this.parkedBytes = parkedBytes;
            this.oldestParkedAt = oldestParkedAt;
            this.oldestAgeSeconds = oldestAgeSeconds;
            this.drainingNow = drainingNow;
            this.claimedFor = claimedFor;
            this.claimedBy = claimedBy;
        }

        @JsonProperty("domain")
        public String domain() {
            return domain;
        }

        @JsonProperty("logins")
        public List<String> logins() {
            return logins;
        }

        @JsonProperty("parkedMessages")
        public long parkedMessages() {
            return parkedMessages;
        }

        @JsonProperty("parkedBytes")
        public long parkedBytes() {
            return parkedBytes;
        }

        @JsonProperty("oldestParkedAt")
        public Optional<Instant> oldestParkedAt() {
            return oldestParkedAt;
        }

        @JsonProperty("oldestAgeSeconds")
        public Optional<Long> oldestAgeSeconds() {
            return oldestAgeSeconds;
        }

        @JsonProperty("drainingNow")
        public boolean drainingNow() {
            return drainingNow;
        }

        @JsonProperty("claimedFor")
        public Optional<String> claimedFor() {
            return claimedFor;
        }

        @JsonProperty("claimedBy")
        public Optional<String> claimedBy() {
            return claimedBy;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof DomainView)) {
                return false;
            }
            DomainView other = (DomainView) o;
            return Objects.equals(domain, other.domain) && Objects.equals(logins, other.logins)
                && parkedMessages == other.parkedMessages && parkedBytes == other.parkedBytes
                && Objects.equals(oldestParkedAt, other.oldestParkedAt) && Objects.equals(oldestAgeSeconds, other.oldestAgeSeconds)
                && drainingNow == other.drainingNow && Objects.equals(claimedFor, other.claimedFor)
                && Objects.equals(claimedBy, other.claimedBy);
        }

        @Override
        public int hashCode() {
            return Objects.hash(domain, logins, parkedMessages, parkedBytes, oldestParkedAt, oldestAgeSeconds, drainingNow,
                claimedFor, claimedBy);
        }

        @Override
        public String toString() {
            return "DomainView[domain=" + domain + ", logins=" + logins + ", parkedMessages=" + parkedMessages
                + ", parkedBytes=" + parkedBytes + ", oldestParkedAt=" + oldestParkedAt + ", oldestAgeSeconds=" + oldestAgeSeconds
                + ", drainingNow=" + drainingNow + ", claimedFor=" + claimedFor + ", claimedBy=" + claimedBy + "]";
        }
    }

    /**
     * One parked message; {@code sender} is null for the null sender ({@code <>}). The last
     * fields are filled only for a single message (they need its headers).
     */
    @JsonPropertyOrder({"key", "sender", "recipients", "size", "parkedAt", "delayWarningSent", "subject", "messageId",
        "remoteAddress"})
    static final class MailView {
        private final String key;
        private final Optional<String> sender;
        private final List<String> recipients;
        private final long size;
        private final Instant parkedAt;
        private final boolean delayWarningSent;
        private final Optional<String> subject;
        private final Optional<String> messageId;
        private final Optional<String> remoteAddress;

        MailView(String key, Optional<String> sender, List<String> recipients, long size, Instant parkedAt,
                 boolean delayWarningSent, Optional<String> subject, Optional<String> messageId,
                 Optional<String> remoteAddress) {
            this.key = key;
            this.sender = sender;
            this.recipients = recipients;
            this.size = size;
            this.parkedAt = parkedAt;
            this.delayWarningSent = delayWarningSent;
            this.subject = subject;
            this.messageId = messageId;
            this.remoteAddress = remoteAddress;
        }

        @JsonProperty("key")
        public String key() {
            return key;
        }

        @JsonProperty("sender")
        public Optional<String> sender() {
            return sender;
        }

        @JsonProperty("recipients")
        public List<String> recipients() {
            return recipients;
        }

        @JsonProperty("size")
        public long size() {
            return size;
        }

        @JsonProperty("parkedAt")
        public Instant parkedAt() {
            return parkedAt;
        }

        @JsonProperty("delayWarningSent")
        public boolean delayWarningSent() {
            return delayWarningSent;
        }

        @JsonProperty("subject")
        @JsonInclude(JsonInclude.Include.NON_ABSENT)
        public Optional<String> subject() {
            return subject;
        }

        @JsonProperty("messageId")
        @JsonInclude(JsonInclude.Include.NON_ABSENT)
        public Optional<String> messageId() {
            return messageId;
        }

        @JsonProperty("remoteAddress")
        @JsonInclude(JsonInclude.Include.NON_ABSENT)
        public Optional<String> remoteAddress() {
            return remoteAddress;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof MailView)) {
                return false;
            }
            MailView other = (MailView) o;
            return Objects.equals(key, other.key) && Objects.equals(sender, other.sender)
                && Objects.equals(recipients, other.recipients) && size == other.size
                && Objects.equals(parkedAt, other.parkedAt) && delayWarningSent == other.delayWarningSent
                && Objects.equals(subject, other.subject) && Objects.equals(messageId, other.messageId)
                && Objects.equals(remoteAddress, other.remoteAddress);
        }

        @Override
        public int hashCode() {
            return Objects.hash(key, sender, recipients, size, parkedAt, delayWarningSent, subject, messageId, remoteAddress);
        }

        @Override
        public String toString() {
            return "MailView[key=" + key + ", sender=" + sender + ", recipients=" + recipients + ", size=" + size
                + ", parkedAt=" + parkedAt + ", delayWarningSent=" + delayWarningSent + ", subject=" + subject
                + ", messageId=" + messageId + ", remoteAddress=" + remoteAddress + "]";
        }
    }

    private ParkedViews() {
    }

    /**
     * Reads keys only for mail this extension parked: age and size are in the name
     * ({@link ParkedNames}), so 100,000 parked messages cost one listing, not 100,000 reads.
     * Only a key without them (parked by an older version, or put there by hand) is opened.
     */
    static DomainView domain(AtrnConfiguration configuration, ParkedMailStore store, DomainLeases leases, Domain domain)
            throws MessagingException {
        long count = 0;
        long bytes = 0;
        Instant oldest = null;
        for (MailKey key : store.keys(domain)) {
            Optional<Instant> parkedAt = ParkedNames.parkedAt(key.asString());
            OptionalLong size = ParkedNames.size(key.asString());
            if (parkedAt.isEmpty() || size.isEmpty()) {
                Optional<Stamp> read = readStamp(store, domain, key);
                if (read.isEmpty()) {
                    continue; // removed since listed
                }
                parkedAt = Optional.of(parkedAt.orElse(read.get().parkedAt()));
                size = OptionalLong.of(size.orElse(read.get().size()));
            }
            count++;
            bytes += size.getAsLong();
            if (oldest == null || parkedAt.get().isBefore(oldest)) {
                oldest = parkedAt.get();
            }
        }
        Optional<String> holder = leases.holderOf(domain);
        Optional<Instant> oldestAt = Optional.ofNullable(oldest);
        return new DomainView(domain.asString(),
            configuration.domain(domain).map(d -> d.logins().stream().sorted().collect(Collectors.toUnmodifiableList())).orElse(List.of()),
            count, bytes, oldestAt,
            oldestAt.map(at -> Math.max(0, Duration.between(at, Instant.now()).toSeconds())),
            holder.isPresent(),
            holder.map(owner -> DomainLeases.Owner.parse(owner).map(o -> o.purpose().name()).orElse("OTHER")),
            holder);
    }

    private static final class Stamp {
        private final Instant parkedAt;
        private final long size;

        Stamp(Instant parkedAt, long size) {
            this.parkedAt = parkedAt;
            this.size = size;
        }

        Instant parkedAt() {
            return parkedAt;
        }

        long size() {
            return size;
        }
    }

    private static Optional<Stamp> readStamp(ParkedMailStore store, Domain domain, MailKey key) throws MessagingException {
        Mail mail = store.retrieve(domain, key).orElse(null);
        try {
            return mail == null ? Optional.empty() : Optional.of(new Stamp(lastUpdated(mail), mail.getMessageSize()));
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    /** The fields of a listing; the caller owns (and disposes) the mail. */
    static MailView summary(MailKey key, Mail mail) throws MessagingException {
        return view(key, mail, false);
    }

    /** A listing's fields plus what needs the headers. */
    static MailView details(MailKey key, Mail mail) throws MessagingException {
        return view(key, mail, true);
    }

    private static MailView view(MailKey key, Mail mail, boolean withDetails) throws MessagingException {
        String name = key.asString();
        OptionalLong size = ParkedNames.size(name);
        MimeMessage message = withDetails ? mail.getMessage() : null;
        return new MailView(name,
            mail.getMaybeSender().asOptional().map(MailAddress::asString),
            mail.getRecipients().stream().map(MailAddress::asString).collect(Collectors.toUnmodifiableList()),
            size.isPresent() ? size.getAsLong() : mail.getMessageSize(),
            ParkedNames.parkedAt(name).orElseGet(() -> lastUpdated(mail)),
            ParkedNames.warned(name),
            withDetails ? Optional.ofNullable(message.getSubject()) : Optional.empty(),
            withDetails ? Optional.ofNullable(message.getMessageID()) : Optional.empty(),
            withDetails ? Optional.ofNullable(mail.getRemoteAddr()) : Optional.empty());
    }

    // Not named by us: its last update is the best age we have (as the expiry sweep does).
    private static Instant lastUpdated(Mail mail) {
        return mail.getLastUpdated() == null ? Instant.now() : mail.getLastUpdated().toInstant();
    }
}
