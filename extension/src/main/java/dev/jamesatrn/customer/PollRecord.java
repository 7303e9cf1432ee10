package dev.jamesatrn.customer;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

import dev.jamesatrn.config.SettingReader;

/**
 * One poll as the scheduler records it: the {@link PollOutcome} of a session, or a poll skipped
 * because another node holds the provider's claim. Texts from the provider or the network are
 * made safe once, here, for the log line and WebAdmin alike: one line, bounded, and never the
 * secret (should a provider or an exception ever echo it).
 */
public final class PollRecord {
    /** How a poll was started. */
    public enum Trigger {
        SCHEDULE, WEBADMIN;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static final String SKIPPED = "SKIPPED";
    private static final int MAX_TEXT = 512;
    private static final int SHORTEST_SECRET_REDACTED = 4;

    private final Trigger trigger;
    /**
     * The session's outcome with its texts made safe, timed by the scheduler (claim included). A
     * skipped poll holds TRY_LATER (polled again after the interval, no back-off) and why it was
     * skipped, and reports no result.
     */
    private final PollOutcome outcome;
    private final boolean skipped;

    private PollRecord(Trigger trigger, PollOutcome outcome, boolean skipped) {
        this.trigger = Objects.requireNonNull(trigger);
        this.outcome = Objects.requireNonNull(outcome);
        this.skipped = skipped;
    }

    static PollRecord of(Provider provider, Trigger trigger, Instant startedAt, Duration took, PollOutcome outcome) {
        return new PollRecord(trigger, new PollOutcome(provider.name(), startedAt, took, outcome.result(),
            outcome.reply().map(text -> safe(text, provider.secret())), outcome.messages(), outcome.bytes(),
            outcome.error().map(text -> safe(text, provider.secret()))), false);
    }

    static PollRecord skippedPoll(Provider provider, Trigger trigger, Instant startedAt, Duration took, Optional<String> holder) {
        return new PollRecord(trigger, new PollOutcome(provider.name(), startedAt, took, PollOutcome.Result.TRY_LATER,
            Optional.empty(), 0, 0, Optional.of(safe("another node polls this provider now (claim held by "
                + holder.orElse("an owner the claim store did not name") + ")", provider.secret()))), true);
    }

    /** One line, printable, at most {@value #MAX_TEXT} characters, the secret replaced by ***. */
    static String safe(String text, String secret) {
        String redacted = secret.length() >= SHORTEST_SECRET_REDACTED ? text.replace(secret, "***") : text;
        StringBuilder out = new StringBuilder();
        redacted.codePoints().forEach(c -> out.appendCodePoint(SettingReader.unprintable(c) ? ' ' : c));
        String line = out.toString().trim();
        return line.length() <= MAX_TEXT ? line : line.substring(0, MAX_TEXT) + "...";
    }

    public String provider() {
        return outcome.provider();
    }

    public Trigger trigger() {
        return trigger;
    }

    public Instant startedAt() {
        return outcome.started();
    }

    public Duration took() {
        return outcome.took();
    }

    /** Empty when the poll was skipped (the claim was held elsewhere). */
    public Optional<PollOutcome.Result> result() {
        return skipped ? Optional.empty() : Optional.of(outcome.result());
    }

    public boolean skipped() {
        return skipped;
    }

    /** The result's name, or SKIPPED. */
    public String resultName() {
        return result().map(Enum::name).orElse(SKIPPED);
    }

    public Optional<String> reply() {
        return outcome.reply();
    }

    public int messages() {
        return outcome.messages();
    }

    public long bytes() {
        return outcome.bytes();
    }

    public Optional<String> error() {
        return outcome.error();
    }

    /**
     * The one INFO line per poll: key=value pairs in a fixed order, texts in double quotes, '-' for
     * nothing. {@code next} is when the following poll is due (after the interval or the back-off).
     */
    String logLine(Optional<Instant> next) {
        return "ATRN customer poll: provider=" + provider() + " trigger=" + trigger.label() + " result=" + resultName()
            + " reply=" + quoted(reply()) + " messages=" + messages() + " bytes=" + bytes() + " duration=" + took().toMillis()
            + "ms error=" + quoted(error()) + " next=" + next.map(Instant::toString).orElse("-");
    }

    private static String quoted(Optional<String> text) {
        return text.map(t -> "\"" + t.replace("\\", "\\\\").replace("\"", "\\\"") + "\"").orElse("-");
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof PollRecord)) {
            return false;
        }
        PollRecord other = (PollRecord) o;
        return trigger == other.trigger && skipped == other.skipped && outcome.equals(other.outcome);
    }

    @Override
    public int hashCode() {
        return Objects.hash(trigger, outcome, skipped);
    }

    @Override
    public String toString() {
        return logLine(Optional.empty());
    }
}
