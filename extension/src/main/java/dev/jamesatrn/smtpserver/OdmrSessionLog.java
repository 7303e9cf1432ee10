package dev.jamesatrn.smtpserver;

import java.util.Optional;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.ConnectHandler;
import org.apache.james.protocols.api.handler.DisconnectHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.jamesatrn.drain.ParkedMailClient;

/**
 * One INFO line per ODMR connection, written when it is over: who (login, remote address, TLS),
 * what (domains of the last ATRN, its reply code, how many ATRN were sent), what came of it
 * (messages delivered, deferred, bounced, bytes) and how long it took. Secrets never appear.
 * The line is written by whichever ends last, the connection or its reversed session, so it
 * always carries the session's outcome.
 */
public class OdmrSessionLog implements ConnectHandler<SMTPSession>, DisconnectHandler<SMTPSession> {
    private static final Logger LOGGER = LoggerFactory.getLogger("dev.jamesatrn.OdmrSession");
    private static final int MAX_LOGGED_CHARS = 100;
    private static final ProtocolSession.AttachmentKey<Entry> ENTRY = ProtocolSession.AttachmentKey.of("atrn.session-log", Entry.class);

    /** What one connection did; filled from the event loop and from its session thread. */
    static final class Entry {
        private final long startNanos = System.nanoTime();
        private final String remote;
        private String login = "-";
        private boolean tls;
        private String domains = "-";
        private String reply = "-";
        private int atrnCount;
        private int running;
        private boolean closed;
        private boolean written;
        private ParkedMailClient.Outcome outcome;

        Entry(String remote) {
            this.remote = remote;
        }

        /** Every ATRN command counts, refused or not; its argument is what the log shows until it is parsed. */
        synchronized void atrnRequested(String argument) {
            atrnCount++;
            domains = argument;
        }

        synchronized void atrnStarted(String claimedDomains) {
            running++;
            domains = claimedDomains;
        }

        synchronized void replied(String code) {
            reply = code;
        }

        synchronized void drained(ParkedMailClient.Outcome drainOutcome) {
            outcome = drainOutcome;
        }

        synchronized void atrnEnded() {
            running--;
            writeIfOver();
        }

        synchronized void closed(String user, boolean encrypted) {
            login = user;
            tls = encrypted;
            closed = true;
            writeIfOver();
        }

        private void writeIfOver() {
            if (!closed || running > 0 || written) {
                return;
            }
            written = true;
            long millis = (System.nanoTime() - startNanos) / 1_000_000;
            if (outcome == null) {
                LOGGER.info("ODMR session remote={} login={} tls={} atrn={} domains={} reply={} duration={}ms", remote, login, tls,
                    atrnCount, domains, reply, millis);
            } else {
                LOGGER.info("ODMR session remote={} login={} tls={} atrn={} domains={} reply={} delivered={} deferred={} "
                        + "bounced={} bytes={} duration={}ms{}", remote, login, tls, atrnCount, domains, reply, outcome.delivered(),
                    outcome.deferred(), outcome.bounced(), outcome.bytes(), millis,
                    outcome.brokenBecause().map(why -> " ended early: " + why).orElse(""));
            }
        }
    }

    /** The connection's entry; event loop only (James keeps attachments in a plain map). */
    static Optional<Entry> of(SMTPSession session) {
        return session.getAttachment(ENTRY, ProtocolSession.State.Connection);
    }

    @Override
    public Response onConnect(SMTPSession session) {
        session.setAttachment(ENTRY, new Entry(remoteAddress(session)), ProtocolSession.State.Connection);
        return null;
    }

    @Override
    public void onDisconnect(SMTPSession session) {
        of(session).ifPresent(entry -> entry.closed(
            Optional.ofNullable(session.getUsername()).map(user -> escaped(user.asString())).orElse("-"), session.isTLSStarted()));
    }

    /**
     * Text a client chose (a login), made safe for a log line: backslash escapes for CR, LF, tab,
     * other control and formatting characters (no forged second line, no terminal escape
     * sequences, no bidi tricks), and at most {@value #MAX_LOGGED_CHARS} characters.
     */
    static String escaped(String clientText) {
        StringBuilder out = new StringBuilder();
        int[] codePoints = clientText.codePoints().toArray();
        for (int i = 0; i < codePoints.length && i < MAX_LOGGED_CHARS; i++) {
            int c = codePoints[i];
            if (c == '\\') {
                out.append("\\\\");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else if (Character.isISOControl(c) || !Character.isDefined(c) || Character.getType(c) == Character.FORMAT
                || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR
                || Character.getType(c) == Character.SURROGATE || Character.getType(c) == Character.PRIVATE_USE) {
                out.append(String.format("\\u{%x}", c));
            } else {
                out.appendCodePoint(c);
            }
        }
        if (codePoints.length > MAX_LOGGED_CHARS) {
            out.append("...(").append(codePoints.length).append(" characters)");
        }
        return out.toString();
    }

    public static String remoteAddress(SMTPSession session) {
        try {
            return session.getRemoteAddress().getAddress().getHostAddress();
        } catch (RuntimeException e) {
            return "unknown";
        }
    }
}
