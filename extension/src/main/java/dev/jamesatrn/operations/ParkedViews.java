package dev.jamesatrn.operations;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
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


import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * How the views of parked mail ({@link DomainView}, {@link MailView}) are read from the store.
 * James's Jackson sees no getters in {@code domain()}-style accessors, so each view names its
 * properties and fixes their order: the JSON stays what it was when these were records.
 */
final class ParkedViews {

    private ParkedViews() {
    }

    /**
     * Reads keys only for mail this extension parked: age and size are in the name
     * ({@link ParkedMailStore#parkedAt}), so 100,000 parked messages cost one listing, not 100,000 reads.
     * Only a key without them (parked by an older version, or put there by hand) is opened.
     */
    static DomainView domain(AtrnConfiguration configuration, ParkedMailStore store, DomainLeases leases, Domain domain)
            throws MessagingException {
        long count = 0;
        long bytes = 0;
        Instant oldest = null;
        for (MailKey key : store.keys(domain)) {
            Optional<Instant> parkedAt = ParkedMailStore.parkedAt(key);
            OptionalLong size = ParkedMailStore.recordedSize(key);
            if (parkedAt.isEmpty() || size.isEmpty()) {
                Mail mail = store.retrieve(domain, key).orElse(null);
                if (mail == null) {
                    continue; // removed since listed
                }
                try {
                    parkedAt = Optional.of(parkedAt.orElse(lastUpdated(mail)));
                    size = OptionalLong.of(size.orElse(mail.getMessageSize()));
                } finally {
                    LifecycleUtil.dispose(mail);
                }
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
        OptionalLong size = ParkedMailStore.recordedSize(key);
        MimeMessage message = withDetails ? mail.getMessage() : null;
        return new MailView(name,
            mail.getMaybeSender().asOptional().map(MailAddress::asString),
            mail.getRecipients().stream().map(MailAddress::asString).collect(Collectors.toUnmodifiableList()),
            size.isPresent() ? size.getAsLong() : mail.getMessageSize(),
            ParkedMailStore.parkedAt(key).orElseGet(() -> lastUpdated(mail)),
            ParkedMailStore.warned(key),
            withDetails ? Optional.ofNullable(message.getSubject()) : Optional.empty(),
            withDetails ? Optional.ofNullable(message.getMessageID()) : Optional.empty(),
            withDetails ? Optional.ofNullable(mail.getRemoteAddr()) : Optional.empty());
    }

    // Not named by us: its last update is the best age we have (as the expiry sweep does).
    private static Instant lastUpdated(Mail mail) {
        return mail.getLastUpdated() == null ? Instant.now() : mail.getLastUpdated().toInstant();
    }
}
