package dev.jamesatrn.customer;

import java.time.Instant;
import java.util.Optional;

/** A provider's polling state at one moment, for WebAdmin. */
public final class ProviderStatus {
    private final Provider provider;
    private final Optional<Instant> pollingSince;
    private final Optional<Instant> nextPollAt;
    private final Optional<PollRecord> lastPoll;
    private final Optional<PollRecord> lastSkipped;
    private final int failedPollsInARow;

    ProviderStatus(Provider provider, Optional<Instant> pollingSince, Optional<Instant> nextPollAt, Optional<PollRecord> lastPoll,
                   Optional<PollRecord> lastSkipped, int failedPollsInARow) {
        this.provider = provider;
        this.pollingSince = pollingSince;
        this.nextPollAt = nextPollAt;
        this.lastPoll = lastPoll;
        this.lastSkipped = lastSkipped;
        this.failedPollsInARow = failedPollsInARow;
    }

    public Provider provider() {
        return provider;
    }

    /** Set while a poll runs (or waits for a free poll thread). */
    public Optional<Instant> pollingSince() {
        return pollingSince;
    }

    public boolean polling() {
        return pollingSince.isPresent();
    }

    /** Empty while polling (the next one is set when it ends) and once James stops. */
    public Optional<Instant> nextPollAt() {
        return nextPollAt;
    }

    /** The last poll that opened a session (or tried to). */
    public Optional<PollRecord> lastPoll() {
        return lastPoll;
    }

    /** The last poll skipped because another node held the provider's claim. */
    public Optional<PollRecord> lastSkipped() {
        return lastSkipped;
    }

    /** Unhealthy polls since the last healthy one; the back-off grows with it. */
    public int failedPollsInARow() {
        return failedPollsInARow;
    }
}
