package dev.jamesatrn.mailets;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a parked copy is named in its repository: {@code atrn-<parked epoch millis>-<flags>-<uuid>}.
 * The key alone then tells a message's age (the expiry sweep reads no body to find what is due)
 * and sorts oldest first; flag {@code w} records that the sender was already warned of the delay.
 */
public final class ParkedNames {
    private static final Pattern NAME = Pattern.compile("^atrn-(\\d{13})-([a-z]*)-.+$");
    private static final String WARNED = "w";

    private ParkedNames() {
    }

    public static String newName(Instant parkedAt, boolean warned) {
        return String.format("atrn-%013d-%s-%s", parkedAt.toEpochMilli(), warned ? WARNED : "", UUID.randomUUID());
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
}
