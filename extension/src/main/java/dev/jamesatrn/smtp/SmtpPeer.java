package dev.jamesatrn.smtp;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The far end of an SMTP session in which James is the client: the ATRN customer over its own
 * (reversed) connection, or an ETRN customer's host over a new one. Every call may block the
 * calling thread, which is never a Netty event loop.
 */
public interface SmtpPeer {
    /** Why a session cannot go on: every message not yet acknowledged stays parked. */
    final class Broken extends Exception {
        public Broken(String message) {
            super(message);
        }
    }

    final class Reply {
        private static final Pattern ENHANCED = Pattern.compile("^\\d{3}[ -]([245]\\.\\d{1,3}\\.\\d{1,3})\\b");

        private final int code;
        private final List<String> lines;

        public Reply(int code, List<String> lines) {
            this.code = code;
            this.lines = lines;
        }

        public int code() {
            return code;
        }

        public List<String> lines() {
            return lines;
        }

        public boolean positive() {
            return code / 100 == 2;
        }

        public boolean transientFailure() {
            return code / 100 == 4;
        }

        public String text() {
            return String.join(" / ", lines);
        }

        /**
         * The RFC 3463 code after the reply code, when the peer gave one. Its class must agree
         * with the reply code's (RFC 3463 section 2); when it does not ({@code 550 4.2.2}), the
         * reply code is what James acted on, so its class wins, as in Postfix.
         */
        public Optional<String> enhancedStatus() {
            Matcher matcher = ENHANCED.matcher(lines.get(lines.size() - 1));
            if (!matcher.find()) {
                return Optional.empty();
            }
            String status = matcher.group(1);
            int replyClass = code / 100;
            boolean statusClass = replyClass == 2 || replyClass == 4 || replyClass == 5;
            return Optional.of(statusClass ? replyClass + status.substring(1) : status);
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Reply)) {
                return false;
            }
            Reply other = (Reply) o;
            return code == other.code && Objects.equals(lines, other.lines);
        }

        @Override
        public int hashCode() {
            return Objects.hash(code, lines);
        }

        @Override
        public String toString() {
            return "Reply[code=" + code + ", lines=" + lines + "]";
        }
    }

    /** One command line (without CRLF). */
    default void send(String commandLine) throws Broken {
        sendAll(List.of(commandLine));
    }

    /** One command, or several back to back (RFC 2920 pipelining) in one write; replies are awaited one by one. */
    void sendAll(List<String> commandLines) throws Broken;

    /** The next complete (possibly multi-line) reply. */
    Reply await(Duration timeout, String awaiting) throws Broken;

    /** Raw, already dot-stuffed message bytes; {@code chunk} may be reused by the caller after return. */
    void sendData(byte[] chunk, int length, Duration timeout) throws Broken;

    void close();

    /** Whether STARTTLS (RFC 3207) can be started on this connection by the client side. */
    default boolean canStartTls() {
        return false;
    }

    /** Wraps the connection in TLS after the peer's 220 to STARTTLS. */
    default void startTls() throws Broken {
        throw new Broken("STARTTLS is not possible on this connection");
    }

    default boolean isTls() {
        return false;
    }

    /** For logs and error texts: printable ASCII, at most 200 characters. */
    public static String abbreviate(String text) {
        return abbreviate(text, 200);
    }

    /** Printable ASCII, at most {@code max} characters: what a peer sent, made safe to quote. */
    static String abbreviate(String text, int max) {
        boolean cut = text.length() > max;
        String printable = (cut ? text.substring(0, max) : text).replaceAll("[^\\x20-\\x7e]", "?");
        return cut ? printable + "..." : printable;
    }

    /** Checks one reply line's shape (RFC 5321 section 4.2): three digits, then space, dash or nothing. */
    public static boolean wellFormedReplyLine(String line) {
        return line.length() >= 3 && Character.isDigit(line.charAt(0)) && Character.isDigit(line.charAt(1))
            && Character.isDigit(line.charAt(2)) && (line.length() == 3 || line.charAt(3) == ' ' || line.charAt(3) == '-');
    }
}
