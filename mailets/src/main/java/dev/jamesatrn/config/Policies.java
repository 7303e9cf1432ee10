package dev.jamesatrn.config;

import java.time.Duration;
import java.util.Optional;

import com.google.common.base.MoreObjects;

/**
 * What protects mail and the service over time: parked lifetime (Postfix's
 * maximal_queue_lifetime, 5 days), an optional delay warning, the pause after a failed AUTH,
 * and an optional minimum interval between two ATRN of one login (RFC 2645 allows 450).
 */
public final class Policies {
    public static final Policies DEFAULT = new Policies(Duration.ofDays(5), Optional.empty(), "atrn-delay-warnings",
        Duration.ofMinutes(1), Duration.ofSeconds(1), Optional.empty(), Duration.ofMinutes(2));

    private final Duration maxParkedLifetime;
    private final Optional<Duration> delayWarningAfter;
    private final String delayWarningProcessor;
    private final Duration expiryCheckInterval;
    private final Duration authFailureDelay;
    private final Optional<Duration> minAtrnInterval;
    private final Duration claimLease;

    public Policies(Duration maxParkedLifetime, Optional<Duration> delayWarningAfter, String delayWarningProcessor,
                    Duration expiryCheckInterval, Duration authFailureDelay, Optional<Duration> minAtrnInterval,
                    Duration claimLease) {
        this.maxParkedLifetime = maxParkedLifetime;
        this.delayWarningAfter = delayWarningAfter;
        this.delayWarningProcessor = delayWarningProcessor;
        this.expiryCheckInterval = expiryCheckInterval;
        this.authFailureDelay = authFailureDelay;
        this.minAtrnInterval = minAtrnInterval;
        this.claimLease = claimLease;
    }

    public Duration maxParkedLifetime() {
        return maxParkedLifetime;
    }

    public Optional<Duration> delayWarningAfter() {
        return delayWarningAfter;
    }

    public String delayWarningProcessor() {
        return delayWarningProcessor;
    }

    public Duration expiryCheckInterval() {
        return expiryCheckInterval;
    }

    public Duration authFailureDelay() {
        return authFailureDelay;
    }

    public Optional<Duration> minAtrnInterval() {
        return minAtrnInterval;
    }

    public Duration claimLease() {
        return claimLease;
    }

    @Override
    public String toString() {
        return MoreObjects.toStringHelper(this)
            .add("maxParkedLifetime", maxParkedLifetime)
            .add("delayWarningAfter", delayWarningAfter)
            .add("delayWarningProcessor", delayWarningProcessor)
            .add("expiryCheckInterval", expiryCheckInterval)
            .add("authFailureDelay", authFailureDelay)
            .add("minAtrnInterval", minAtrnInterval)
            .add("claimLease", claimLease)
            .toString();
    }
}
