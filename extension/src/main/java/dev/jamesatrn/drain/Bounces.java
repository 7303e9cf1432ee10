package dev.jamesatrn.drain;

import java.util.Collection;

import javax.mail.MessagingException;

import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;

/**
 * The one way parked mail goes back to its sender: a copy handed to a mailet processor
 * (DSNBounce) with the reason as error message. James's DSNBounce writes the
 * {@code delivery-error} attribute as the DSN's Status (RFC 3464) and falls back to "unknown",
 * which is not a valid status: every copy handed over here carries one. The parked mail itself
 * is never touched: its caller removes it only once the hand-over succeeded, so a failed one
 * leaves it parked.
 */
public final class Bounces {
    // The attribute name RemoteDelivery's Bouncer sets for DSNBounce.
    private static final AttributeName DELIVERY_ERROR = AttributeName.of("delivery-error");
    /** RFC 3463: delivery time expired. */
    public static final String EXPIRED = "4.4.7";
    /**
     * RFC 3463: other or undefined permanent failure; for an operator's decision, which has no
     * closer code, and for a customer's 5xx that gave none.
     */
    public static final String UNDEFINED_PERMANENT = "5.0.0";

    private Bounces() {
    }

    /** A copy of the mail, for all its recipients. */
    public static void sendCopy(MailetContext context, Mail mail, String processor, String enhancedStatus, String reason)
            throws MessagingException {
        sendCopy(context, mail, mail.getRecipients(), processor, enhancedStatus, reason);
    }

    /** A copy of the mail for some of its recipients (those a customer refused). */
    public static void sendCopy(MailetContext context, Mail mail, Collection<MailAddress> recipients, String processor,
                                String enhancedStatus, String reason) throws MessagingException {
        MailImpl copy = MailImpl.duplicate(mail);
        try {
            copy.setRecipients(recipients);
            copy.setErrorMessage(reason);
            copy.setAttribute(new Attribute(DELIVERY_ERROR, AttributeValue.of(enhancedStatus)));
            context.sendMail(copy, processor);
        } finally {
            LifecycleUtil.dispose(copy);
        }
    }

    /**
     * Bounce, or drop a null sender: a null-sender message (itself a DSN) gets no bounce, so
     * bounces never loop (RFC 5321 section 6.1).
     *
     * @return false for a null sender: nothing was sent, and the caller removes the mail all the same
     */
    public static boolean returnToSender(MailetContext context, Mail mail, String processor, String enhancedStatus,
                                         String reason) throws MessagingException {
        if (mail.getMaybeSender().isNullSender()) {
            return false;
        }
        sendCopy(context, mail, processor, enhancedStatus, reason);
        return true;
    }
}
