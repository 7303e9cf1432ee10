package dev.jamesatrn.extension;

import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;

/**
 * James's DSNBounce writes the {@code delivery-error} attribute as the DSN's Status (RFC 3464) and
 * falls back to "unknown", which is not a valid status: every copy we hand it carries one.
 */
final class Bounces {
    // The attribute name RemoteDelivery's Bouncer sets for DSNBounce.
    private static final AttributeName DELIVERY_ERROR = AttributeName.of("delivery-error");
    /** RFC 3463: delivery time expired. */
    static final String EXPIRED = "4.4.7";

    private Bounces() {
    }

    static void setStatus(Mail copy, String enhancedStatus) {
        copy.setAttribute(new Attribute(DELIVERY_ERROR, AttributeValue.of(enhancedStatus)));
    }
}
