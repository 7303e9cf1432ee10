package dev.jamesatrn.drain;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import dev.jamesatrn.config.Timeouts;
import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer.Reply;
import dev.jamesatrn.smtp.SmtpPeer;

/**
 * The opening of the client's session: the peer's greeting, EHLO (HELO when refused), STARTTLS
 * when offered and possible, and what the peer's EHLO reply offers. A peer that greets or answers
 * with a name of this server gets nothing: the mail would only come back here.
 */
final class PeerHello {
    private final SmtpPeer peer;
    private final String helloName;
    private final Timeouts timeouts;
    private final Set<String> ownHostNames;
    private boolean loopsBack;
    private boolean offersSize;
    private boolean offers8BitMime;
    private boolean offersPipelining;

    PeerHello(SmtpPeer peer, String helloName, Timeouts timeouts, Set<String> ownHostNames) {
        this.peer = peer;
        this.helloName = helloName;
        this.timeouts = timeouts;
        this.ownHostNames = ownHostNames;
    }

    void greeting() throws Broken {
        Reply greeting = peer.await(timeouts.greeting(), "the 220 greeting");
        if (greeting.code() != 220) {
            throw new Broken("the customer greeted with " + SmtpPeer.abbreviate(greeting.text()));
        }
        refuseOwnName(greeting, "greeted");
    }

    void hello() throws Broken {
        Reply ehlo = SmtpChat.command(peer, "EHLO " + helloName, timeouts.command(), "EHLO", SmtpChat.FINAL);
        if (ehlo.positive()) {
            refuseOwnName(ehlo, "answered EHLO");
            Set<String> keywords = keywords(ehlo);
            if (keywords.contains("STARTTLS") && peer.canStartTls()) {
                Reply starttls = SmtpChat.command(peer, "STARTTLS", timeouts.command(), "STARTTLS", SmtpChat.FINAL);
                if (starttls.code() == 220) {
                    peer.startTls();
                    // RFC 3207 section 4.2: forget everything learnt before TLS and ask again.
                    Reply again = SmtpChat.command(peer, "EHLO " + helloName, timeouts.command(), "EHLO", SmtpChat.FINAL);
                    if (!again.positive()) {
                        throw new Broken("the peer refused EHLO after STARTTLS: " + SmtpPeer.abbreviate(again.text()));
                    }
                    keywords = keywords(again);
                }
            }
            offersSize = keywords.contains("SIZE");
            offers8BitMime = keywords.contains("8BITMIME");
            offersPipelining = keywords.contains("PIPELINING");
            return;
        }
        Reply helo = SmtpChat.command(peer, "HELO " + helloName, timeouts.command(), "HELO", SmtpChat.FINAL);
        if (!helo.positive()) {
            throw new Broken("the customer refused EHLO and HELO: " + SmtpPeer.abbreviate(helo.text()));
        }
        refuseOwnName(helo, "answered HELO");
    }

    /** The peer greeted or answered EHLO with a name of this server: nothing was sent. */
    boolean loopsBack() {
        return loopsBack;
    }

    boolean offersSize() {
        return offersSize;
    }

    boolean offers8BitMime() {
        return offers8BitMime;
    }

    boolean offersPipelining() {
        return offersPipelining;
    }

    /**
     * RFC 5321 4.2 and 4.1.1.1: the greeting and the EHLO reply start with the server's own name.
     * Ours means the mail would come back here and be parked again (Postfix: "mail for X loops
     * back to myself"), whatever address led there: NAT, a load balancer, another cluster node.
     */
    private void refuseOwnName(Reply reply, String how) throws Broken {
        String first = reply.lines().get(0);
        String name = first.length() > 4 ? OwnHostNames.normalize(first.substring(4).trim().split("\\s+", 2)[0]) : "";
        if (ownHostNames.contains(name)) {
            loopsBack = true;
            SmtpChat.quitQuietly(peer, timeouts.command());
            throw new Broken("the peer " + how + " as " + SmtpPeer.abbreviate(name) + ", a name of this server: the mail would loop back here");
        }
    }

    private static Set<String> keywords(Reply ehlo) {
        return ehlo.lines().stream().skip(1)
            .map(line -> line.length() > 4 ? line.substring(4).trim() : "")
            .map(keyword -> keyword.split("\\s+")[0].toUpperCase(Locale.ROOT))
            .collect(Collectors.toSet());
    }
}
