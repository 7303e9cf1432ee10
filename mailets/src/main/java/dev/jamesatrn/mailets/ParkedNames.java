package dev.jamesatrn.mailets;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a parked copy is named in its repository:
 * {@code atrn-<parked epoch millis>-<flags>-s<size in bytes>-<uuid>}. The key alone then tells a
 * message's age (the expiry sweep reads no body to find what is due) and its size (WebAdmin's
 * domain listing adds up the bytes of 100,000 parked messages by listing keys, without opening
 * one), and sorts oldest first; flag {@code w} records that the sender was already warned of the
 * delay.
 *
 * <p>Names given before the size was added ({@code atrn-<millis>-<flags>-<uuid>}) still parse:
 * their size is unknown and must be read from the message. The {@code s} marker keeps the two
 * forms apart, since a UUID is hexadecimal and never starts with {@code s}.
 */
public final class ParkedNames {
    private static final Pattern NAME = Pattern.compile("^atrn-(\\d{13})-([a-z]*)-(?:s(\\d{1,18})-)?.+$");
    private static final String WARNED = "w";

    private ParkedNames() {
    }

    public static String newName(Instant parkedAt, boolean warned, long size) {
        return String.format("atrn-%013d-%s-s%d-%s", parkedAt.toEpochMilli(), warned ? WARNED : "", Math.max(0, size),
            UUID.randomUUID());
    }

    /** Empty for a name this extension did not give. */
    public static Optional<Instant> parkedAt(String name) {
        Matcher matcher = NAME.matcher(name);
        return matcher.matches() ? Optional.of(Instant.ofEpochMilli(Long.parseLong(matcher.group(1)))) : Optional.empty();
    }

    public static boolean warned(String name) {
        Matcher matcher = NAME.matcher(name);
        return matcher.matches() && matcher.group(2).contains(WARNED);
    }

    /** The size recorded at parking time; empty for names without one (older names, names not ours). */
    public static OptionalLong size(String name) {
        Matcher matcher = NAME.matcher(name);
        return matcher.matches() && matcher.group(3) != null ? OptionalLong.of(Long.parseLong(matcher.group(3)))
            : OptionalLong.empty();
    }
}
