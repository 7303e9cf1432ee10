package dev.jamesatrn.drain;

import javax.mail.MessagingException;

import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;

/**
 * James's DSNBounce writes the {@code delivery-error} attribute as the DSN's Status (RFC 3464) and
 * falls back to "unknown", which is not a valid status: every copy we hand it carries one.
 * Public because the WebAdmin routes (a sub-package) bounce parked mail too.
 */
public final class Bounces {
    // The attribute name RemoteDelivery's Bouncer sets for DSNBounce.
    private static final AttributeName DELIVERY_ERROR = AttributeName.of("delivery-error");
    /** RFC 3463: delivery time expired. */
    static final String EXPIRED = "4.4.7";
    /** RFC 3463: other or undefined permanent failure; an operator's decision has no closer code. */
    public static final String OPERATOR_DECISION = "5.0.0";

    private Bounces() {
    }

    static void setStatus(Mail copy, String enhancedStatus) {
        copy.setAttribute(new Attribute(DELIVERY_ERROR, AttributeValue.of(enhancedStatus)));
    }

    /**
     * Hands a copy of the mail, for all its recipients, to a mailet processor (DSNBounce) with
     * the reason as error message. The mail itself is not touched: the caller removes it only
     * once this returned, so a failed hand-over leaves it parked.
     */
    public static void sendCopy(MailetContext context, Mail mail, String processor, String enhancedStatus, String reason)
            throws MessagingException {
        MailImpl copy = MailImpl.duplicate(mail);
        try {
            copy.setErrorMessage(reason);
            setStatus(copy, enhancedStatus);
            context.sendMail(copy, processor);
        } finally {
            LifecycleUtil.dispose(copy);
        }
    }
}
