package dev.jamesatrn.smtp;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer.Reply;

/**
 * Assembles the lines a peer sends into SMTP replies (RFC 5321 section 4.2), for every
 * connection where we are the client: the reversed ATRN session, the new connection after ETRN
 * (both {@link SmtpPeer}), and the customer role's session with its provider. The one place that
 * checks a reply's shape and bounds its size, so a peer that never ends a multi-line reply (an
 * endless {@code 250-} stream) ends the session instead of filling the heap.
 */
public final class ReplyReader {
    /**
     * RFC 5321 section 4.5.3.1.5 allows 512 octets a reply line; a real EHLO reply has a dozen
     * lines. Far above anything legitimate, far below what hurts a server.
     */
    public static final int MAX_LINES = 100;
    public static final int MAX_CHARS = 64 * 1024;

    /** Where reply lines come from: the next one without its line ending, or why there is none. */
    interface LineSource {
        String next() throws Broken;
    }

    private ReplyReader() {
    }

    /**
     * One complete reply, pulled line by line. {@code peer} names the far end in error texts
     * ("the customer", "mx.example:25"); only a bounded excerpt of what it sent ever goes into them.
     */
    static Reply read(LineSource source, String awaiting, String peer) throws Broken {
        Assembler assembler = new Assembler();
        while (true) {
            Optional<Reply> reply = assembler.add(source.next(), awaiting, peer);
            if (reply.isPresent()) {
                return reply.get();
            }
        }
    }

    /** The same, for a peer whose lines are pushed to us (a Netty handler): one line at a time. */
    public static final class Assembler {
        private final List<String> lines = new ArrayList<>();
        private long chars;

        /** The complete reply, or empty while more lines are due; ready for the next reply after one. */
        public Optional<Reply> add(String line, String awaiting, String peer) throws Broken {
            if (!SmtpPeer.wellFormedReplyLine(line)) {
                throw new Broken("unparseable reply to " + awaiting + " from " + peer + ": " + SmtpPeer.abbreviate(line));
            }
            if (!lines.isEmpty() && !line.regionMatches(0, lines.get(0), 0, 3)) {
                throw new Broken("a multi-line reply to " + awaiting + " from " + peer + " changed its code: "
                    + SmtpPeer.abbreviate(line));
            }
            chars += line.length() + 2;
            if (lines.size() >= MAX_LINES || chars > MAX_CHARS) {
                throw new Broken("the reply to " + awaiting + " from " + peer + " went past " + MAX_LINES + " lines or "
                    + MAX_CHARS / 1024 + " KB; it began: " + SmtpPeer.abbreviate(lines.isEmpty() ? line : lines.get(0)));
            }
            lines.add(line);
            if (line.length() == 3 || line.charAt(3) == ' ') {
                Reply reply = new Reply(Integer.parseInt(line.substring(0, 3)), List.copyOf(lines));
                lines.clear();
                chars = 0;
                return Optional.of(reply);
            }
            return Optional.empty();
        }
    }
}
