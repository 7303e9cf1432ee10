package dev.jamesatrn.store;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a parked copy is named in its repository:
 * {@code atrn-<received epoch millis>.<nnn>-<flags>-s<size in bytes>-p<parked epoch millis>-<uuid>}.
 * The first field is the message's place in the delivery order ({@link ReceiptOrder}: when James
 * accepted it, {@code nnn} telling apart messages accepted in the same millisecond), in a fixed
 * width, so names sort in delivery order as plain strings. The key alone then also tells a
 * message's age (the expiry sweep reads no body to find what is due) and its size (WebAdmin's
 * domain listing adds up the bytes of 100,000 parked messages by listing keys, without opening
 * one); flag {@code w} records that the sender was already warned of the delay.
 *
 * <p>Names given by earlier versions still parse: {@code atrn-<millis>-<flags>-<uuid>} (no size,
 * which must then be read from the message) and {@code atrn-<millis>-<flags>-s<size>-<uuid>};
 * their one time is both their place in the order and their parking time. The {@code s} and
 * {@code p} markers keep the forms apart, since a UUID is hexadecimal.
 */
public final class ParkedNames {
    private static final Pattern NAME = Pattern.compile(
        "^atrn-(\\d{13})(?:\\.(\\d{3}))?-([a-z]*)-(?:s(\\d{1,18})-)?(?:p(\\d{13})-)?.+$");
    private static final String WARNED = "w";
    /** What every name given by this extension starts with. */
    public static final String PREFIX = "atrn-";

    private ParkedNames() {
    }

    /**
     * @param order     the message's place in the delivery order ({@link ReceiptOrder#of})
     * @param parkedAt  when it was parked: its age for {@code delayWarningAfter} and {@code maxParkedLifetime}
     */
    public static String newName(long order, Instant parkedAt, boolean warned, long size) {
        return String.format("atrn-%013d.%03d-%s-s%d-p%013d-%s", order / 1000, order % 1000, warned ? WARNED : "",
            Math.max(0, size), parkedAt.toEpochMilli(), UUID.randomUUID());
    }

    /** A name whose place in the order is its parking time (mail put there by hand, tests). */
    public static String newName(Instant parkedAt, boolean warned, long size) {
        return newName(ReceiptOrder.after(parkedAt.toEpochMilli()), parkedAt, warned, size);
    }

    /**
     * A new name for a changed copy (recipients, the warned flag) that keeps the message's place
     * in the order and its parking time; a name not given by us gets now for both.
     */
    public static String renamed(String oldName, boolean warned, long size) {
        Matcher matcher = NAME.matcher(oldName);
        if (!matcher.matches()) {
            return newName(Instant.now(), warned, size);
        }
        long millis = Long.parseLong(matcher.group(1));
        long order = millis * 1000 + (matcher.group(2) != null ? Long.parseLong(matcher.group(2)) : 0);
        Instant parkedAt = Instant.ofEpochMilli(matcher.group(5) != null ? Long.parseLong(matcher.group(5)) : millis);
        return newName(order, parkedAt, warned, size);
    }

    /** Empty for a name this extension did not give. */
    public static Optional<Instant> parkedAt(String name) {
        Matcher matcher = NAME.matcher(name);
        if (!matcher.matches()) {
            return Optional.empty();
        }
        return Optional.of(Instant.ofEpochMilli(Long.parseLong(matcher.group(5) != null ? matcher.group(5) : matcher.group(1))));
    }

    public static boolean warned(String name) {
        Matcher matcher = NAME.matcher(name);
        return matcher.matches() && matcher.group(3).contains(WARNED);
    }

    /** The size recorded at parking time; empty for names without one (older names, names not ours). */
    public static OptionalLong size(String name) {
        Matcher matcher = NAME.matcher(name);
        return matcher.matches() && matcher.group(4) != null ? OptionalLong.of(Long.parseLong(matcher.group(4)))
            : OptionalLong.empty();
    }
}
