package dev.jamesatrn.customer;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

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

    private final String provider;
    private final Trigger trigger;
    private final Instant startedAt;
    private final Duration took;
    private final Optional<PollOutcome.Result> result;
    private final Optional<String> reply;
    private final int messages;
    private final long bytes;
    private final Optional<String> error;

    private PollRecord(String provider, Trigger trigger, Instant startedAt, Duration took, Optional<PollOutcome.Result> result,
                       Optional<String> reply, int messages, long bytes, Optional<String> error) {
        this.provider = provider;
        this.trigger = trigger;
        this.startedAt = startedAt;
        this.took = took;
        this.result = result;
        this.reply = reply;
        this.messages = messages;
        this.bytes = bytes;
        this.error = error;
    }

    static PollRecord of(Provider provider, Trigger trigger, Instant startedAt, Duration took, PollOutcome outcome) {
        return new PollRecord(provider.name(), trigger, startedAt, took, Optional.of(outcome.result()),
            outcome.reply().map(text -> safe(text, provider.secret())), outcome.messages(), outcome.bytes(),
            outcome.error().map(text -> safe(text, provider.secret())));
    }

    static PollRecord skippedPoll(Provider provider, Trigger trigger, Instant startedAt, Duration took, Optional<String> holder) {
        return new PollRecord(provider.name(), trigger, startedAt, took, Optional.empty(), Optional.empty(), 0, 0,
            Optional.of(safe("another node polls this provider now (claim held by " + holder.orElse("an owner the claim store "
                + "did not name") + ")", provider.secret())));
    }

    /** One line, printable, at most {@value #MAX_TEXT} characters, the secret replaced by ***. */
    static String safe(String text, String secret) {
        String redacted = secret.length() >= SHORTEST_SECRET_REDACTED ? text.replace(secret, "***") : text;
        StringBuilder out = new StringBuilder();
        redacted.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c)
            || Character.getType(c) == Character.FORMAT || Character.getType(c) == Character.LINE_SEPARATOR
            || Character.getType(c) == Character.PARAGRAPH_SEPARATOR ? ' ' : c));
        String line = out.toString().trim();
        return line.length() <= MAX_TEXT ? line : line.substring(0, MAX_TEXT) + "...";
    }

    public String provider() {
        return provider;
    }

    public Trigger trigger() {
        return trigger;
    }

    public Instant startedAt() {
        return startedAt;
    }

    public Duration took() {
        return took;
    }

    /** Empty when the poll was skipped (the claim was held elsewhere). */
    public Optional<PollOutcome.Result> result() {
        return result;
    }

    public boolean skipped() {
        return result.isEmpty();
    }

    /** The result's name, or SKIPPED. */
    public String resultName() {
        return result.map(Enum::name).orElse(SKIPPED);
    }

    public Optional<String> reply() {
        return reply;
    }

    public int messages() {
        return messages;
    }

    public long bytes() {
        return bytes;
    }

    public Optional<String> error() {
        return error;
    }

    /**
     * The one INFO line per poll: key=value pairs in a fixed order, texts in double quotes, '-' for
     * nothing. {@code next} is when the following poll is due (after the interval or the back-off).
     */
    String logLine(Optional<Instant> next) {
        return "ATRN customer poll: provider=" + provider + " trigger=" + trigger.label() + " result=" + resultName()
            + " reply=" + quoted(reply) + " messages=" + messages + " bytes=" + bytes + " duration=" + took.toMillis() + "ms"
            + " error=" + quoted(error) + " next=" + next.map(Instant::toString).orElse("-");
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
        return messages == other.messages && bytes == other.bytes && provider.equals(other.provider) && trigger == other.trigger
            && startedAt.equals(other.startedAt) && took.equals(other.took) && result.equals(other.result)
            && reply.equals(other.reply) && error.equals(other.error);
    }

    @Override
    public int hashCode() {
        return Objects.hash(provider, trigger, startedAt, took, result, reply, messages, bytes, error);
    }

    @Override
    public String toString() {
        return logLine(Optional.empty());
    }
}
