package dev.jamesatrn.config;

import java.time.Duration;

/**
 * Where a duration key's value must lie, with the words its problems are reported in. Each
 * file keeps its own wording (operators and tests know them): {@code atrn.xml} says a value is
 * too long, {@code atrn-customer.xml} gives the whole range and why.
 */
public final class DurationRange {
    final Duration fallback;
    final Duration least;
    final Duration most;
    /** False: 0 is reported as "not a duration" (a zero timeout or lifetime is never meant). */
    final boolean zeroAllowed;
    final String notADurationFix;
    final String outside;
    final String outsideFix;

    private DurationRange(Duration fallback, Duration least, Duration most, boolean zeroAllowed, String notADurationFix,
                          String outside, String outsideFix) {
        this.fallback = fallback;
        this.least = least;
        this.most = most;
        this.zeroAllowed = zeroAllowed;
        this.notADurationFix = notADurationFix;
        this.outside = outside;
        this.outsideFix = outsideFix;
    }

    /**
     * Positive and at most {@code most}: past it a value is a typo, never a policy (the code adds
     * durations to clocks and turns them into nanoseconds, which overflow past 292 years).
     */
    public static DurationRange positiveUpTo(Duration fallback, Duration most) {
        String longest = SettingReader.shortest(most);
        return new DurationRange(fallback, Duration.ZERO, most, false, "write a positive duration such as 300s or 5m",
            "is longer than " + longest + ", the most this key allows", "write a positive duration of at most " + longest);
    }

    /** From {@code least} to {@code most}: below is unsafe or against an RFC ({@code why} says which), above is a typo. */
    public static DurationRange between(Duration fallback, Duration least, Duration most, String why) {
        return new DurationRange(fallback, least, most, true, "write a duration such as 90s, 15m or 1h",
            "is outside " + SettingReader.shortest(least) + " .. " + SettingReader.shortest(most) + " (" + why + ")",
            "write a duration in that range; the default is " + SettingReader.shortest(fallback));
    }

    public Duration fallback() {
        return fallback;
    }
}
