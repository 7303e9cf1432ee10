package dev.jamesatrn.drain;

import java.time.Duration;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer.Reply;
import dev.jamesatrn.smtp.SmtpPeer;

/**
 * The client's request/reply exchange (Postfix's smtp_chat.c): a command, its reply, and whether
 * that reply is one the command may get at all.
 */
final class SmtpChat {
    private static final Logger LOGGER = LoggerFactory.getLogger(SmtpChat.class);

    /** Reply classes a command may get; anything else means the two ends no longer agree. */
    static final Set<Integer> FINAL = Set.of(2, 4, 5);
    static final Set<Integer> START_INPUT = Set.of(3, 4, 5);

    private SmtpChat() {
    }

    static Reply command(SmtpPeer peer, String line, Duration timeout, String name, Set<Integer> expected) throws Broken {
        peer.send(line);
        return checked(peer.await(timeout, name), name, expected);
    }

    /** RFC 5321 section 3.8: a 421 ends the session, whatever it answers. */
    static Reply checked(Reply reply, String name, Set<Integer> expected) throws Broken {
        if (reply.code() == 421) {
            throw closingSession(reply);
        }
        return expect(reply, name, expected);
    }

    static Broken closingSession(Reply reply) {
        return new Broken("the customer is closing the session: " + SmtpPeer.abbreviate(reply.text()));
    }

    static Reply expect(Reply reply, String name, Set<Integer> expected) throws Broken {
        if (!expected.contains(reply.code() / 100) || (reply.code() / 100 == 3 && reply.code() != 354)) {
            throw new Broken("unexpected reply to " + name + ": " + SmtpPeer.abbreviate(reply.text()));
        }
        return reply;
    }

    /** Ends the session politely after a failure of our own; the peer failing too changes nothing. */
    static void quitQuietly(SmtpPeer peer, Duration timeout) {
        try {
            peer.send("QUIT");
            peer.await(timeout, "QUIT");
        } catch (Broken e) {
            LOGGER.debug("QUIT after a storage error failed: {}", e.getMessage());
        }
    }
}
