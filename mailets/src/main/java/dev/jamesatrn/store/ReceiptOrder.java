package dev.jamesatrn.store;

import java.util.Date;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;

/**
 * A parked message's place in its domain's delivery order ("oldest first"): when James accepted
 * it. Its parking time will not do: James's spooler works on several messages at once (20
 * threads in the sample), so messages received in a row on one connection are parked in any
 * order, and even when they are not, several fall in one millisecond.
 *
 * <p>So the inbound SMTP server stamps each message as it accepts it
 * (the extension's {@code ReceiptOrderHook}, part of the inbound handlers package the
 * sample smtpserver.xml names) with a number that grows
 * strictly within this JVM: epoch milliseconds times 1000, plus a count of the messages accepted
 * before it in the same millisecond. James keeps mail attributes through its spool (memory,
 * ActiveMQ and RabbitMQ queues alike), and {@code ParkForAtrn} writes the number into the parked
 * copy's name. Mail that carries no stamp (made by James itself, such as a DSN; received by
 * another protocol or by an SMTP server without that package) takes the millisecond James created it
 * ({@link Mail#getLastUpdated()}), after every stamped message of that millisecond, in no
 * particular order among themselves.
 */
public final class ReceiptOrder {
    public static final AttributeName ATTRIBUTE = AttributeName.of("dev.jamesatrn.receiptOrder");
    private static final int PER_MILLISECOND = 1000;
    private static final AtomicLong LAST = new AtomicLong();

    private ReceiptOrder() {
    }

    /** Strictly greater than every earlier value of this JVM, and at least now in epoch milliseconds times 1000. */
    public static long next() {
        long now = System.currentTimeMillis() * PER_MILLISECOND;
        return LAST.accumulateAndGet(now, (last, candidate) -> Math.max(last + 1, candidate));
    }

    /** Records the moment James accepted the mail. */
    public static void stamp(Mail mail) {
        mail.setAttribute(new Attribute(ATTRIBUTE, AttributeValue.of(next())));
    }

    /** After every message stamped in that millisecond. */
    static long after(long epochMillis) {
        return epochMillis * PER_MILLISECOND + PER_MILLISECOND - 1;
    }

    /** The stamp given at receipt or, without one, the millisecond James created the mail. */
    public static long of(Mail mail) {
        Optional<Long> stamped = mail.getAttribute(ATTRIBUTE)
            .map(attribute -> attribute.getValue().getValue())
            .filter(Long.class::isInstance)
            .map(Long.class::cast)
            .filter(value -> value > 0);
        if (stamped.isPresent()) {
            return stamped.get();
        }
        Date created = mail.getLastUpdated();
        return after(created != null ? created.getTime() : System.currentTimeMillis());
    }
}
