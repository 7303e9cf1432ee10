package dev.jamesatrn.customer;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** What one poll of one provider came to: shown by WebAdmin, counted by metrics, logged once. */
public final class PollOutcome {
    public enum Result {
        /** {@code 250} to ATRN: the session turned and ended (messages may be 0). */
        RECEIVED(true),
        /** {@code 453}: nothing waiting. A success. */
        NOTHING_WAITING(true),
        /** {@code 451}: try again at the next poll (domain busy, provider trouble). No back-off. */
        TRY_LATER(true),
        /** {@code 450}, {@code 530}, {@code 535}, {@code 502}, other refusals, ATRN not advertised: back-off. */
        REFUSED(false),
        /** Connection, TLS, timeout or protocol failure: back-off. */
        FAILED(false);

        private final boolean healthy;

        Result(boolean healthy) {
            this.healthy = healthy;
        }

        /** False when the scheduler should back off before the next poll. */
        public boolean healthy() {
            return healthy;
        }
    }

    private final String provider;
    private final Instant started;
    private final Duration took;
    private final Result result;
    private final Optional<String> reply;
    private final int messages;
    private final long bytes;
    private final Optional<String> error;

    public PollOutcome(String provider, Instant started, Duration took, Result result, Optional<String> reply,
                       int messages, long bytes, Optional<String> error) {
        this.provider = Objects.requireNonNull(provider);
        this.started = Objects.requireNonNull(started);
        this.took = Objects.requireNonNull(took);
        this.result = Objects.requireNonNull(result);
        this.reply = Objects.requireNonNull(reply);
        this.messages = messages;
        this.bytes = bytes;
        this.error = Objects.requireNonNull(error);
    }

    public String provider() {
        return provider;
    }

    public Instant started() {
        return started;
    }

    public Duration took() {
        return took;
    }

    public Result result() {
        return result;
    }

    /** The provider's reply to ATRN (first line, code and text, bounded), or to the step that failed. */
    public Optional<String> reply() {
        return reply;
    }

    /** Messages the reversed session enqueued (each got our 250 to end-of-data). */
    public int messages() {
        return messages;
    }

    /** Bytes of those messages as received (after dot-unstuffing). */
    public long bytes() {
        return bytes;
    }

    /** Why the poll failed, in words an operator can act on; never contains the secret. */
    public Optional<String> error() {
        return error;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof PollOutcome)) {
            return false;
        }
        PollOutcome other = (PollOutcome) o;
        return messages == other.messages && bytes == other.bytes && provider.equals(other.provider) && started.equals(other.started)
            && took.equals(other.took) && result == other.result && reply.equals(other.reply) && error.equals(other.error);
    }

    @Override
    public int hashCode() {
        return Objects.hash(provider, started, took, result, reply, messages, bytes, error);
    }

    @Override
    public String toString() {
        return "PollOutcome{" + provider + " " + result + " reply=" + reply.orElse("-") + " messages=" + messages
            + " bytes=" + bytes + " error=" + error.orElse("-") + " took=" + took.toMillis() + "ms}";
    }
}
