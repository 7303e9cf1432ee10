package dev.jamesatrn.mailets;

import java.time.Instant;
import java.util.Optional;

import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;

/** What a parked copy carries about its own parking, stored with it in the repository. */
public final class ParkedAttributes {
    static final AttributeName PARKED_AT = AttributeName.of("dev.jamesatrn.parkedAt");
    static final AttributeName DELAY_WARNED = AttributeName.of("dev.jamesatrn.delayWarned");

    private ParkedAttributes() {
    }

    static void markParked(Mail mail, Instant now) {
        mail.setAttribute(new Attribute(PARKED_AT, AttributeValue.of(String.valueOf(now.toEpochMilli()))));
    }

    /** When the message was first parked (older copies without the attribute: its last update). */
    public static Instant parkedAt(Mail mail) {
        return mail.getAttribute(PARKED_AT)
            .map(attribute -> String.valueOf(attribute.getValue().value()))
            .flatMap(ParkedAttributes::epochMillis)
            .orElseGet(() -> Optional.ofNullable(mail.getLastUpdated()).map(java.util.Date::toInstant).orElse(Instant.EPOCH));
    }

    public static boolean delayWarned(Mail mail) {
        return mail.getAttribute(DELAY_WARNED).isPresent();
    }

    public static void markDelayWarned(Mail mail) {
        mail.setAttribute(new Attribute(DELAY_WARNED, AttributeValue.of(true)));
    }

    private static Optional<Instant> epochMillis(String raw) {
        try {
            return Optional.of(Instant.ofEpochMilli(Long.parseLong(raw)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
