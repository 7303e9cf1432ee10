package dev.jamesatrn.drain;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.mailet.Mail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.hash.HashCode;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;

/**
 * The copies a drain read, to tell mail parked while it ran from a copy of one it sent that came
 * back through the peer (see {@link ParkedMailClient#deliveringMailParkedMeanwhile}). Hashed:
 * bounded memory whatever a sender wrote.
 */
final class ReturnedCopies {
    private static final Logger LOGGER = LoggerFactory.getLogger(ReturnedCopies.class);

    private final Set<HashCode> copiesRead = new HashSet<>();

    /**
     * True for a copy that may go out now. One read from the mail parked when the drain started
     * always may, and is recorded; one parked meanwhile may only with a Message-ID, and when no
     * copy read before shares it, its domain and its recipients: otherwise it stays parked for the
     * next session.
     */
    boolean mayGo(Domain domain, MailKey key, Mail mail, boolean parkedMeanwhile) {
        Optional<HashCode> copy = copyOf(domain, mail);
        if (!parkedMeanwhile) {
            copy.ifPresent(copiesRead::add);
            return true;
        }
        if (copy.isEmpty()) {
            LOGGER.info("Left {} of {} parked for the next session: it was parked while this one ran, and without a "
                + "Message-ID it cannot be told from a copy of a message sent in it", key.asString(), domain.asString());
            return false;
        }
        if (!copiesRead.add(copy.get())) {
            LOGGER.warn("Left {} of {} parked for the next session: a copy with its Message-ID and recipients was already "
                + "sent in this one and came back while it ran (a mail loop through the customer's MTA?)", key.asString(),
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
}
