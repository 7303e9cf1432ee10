package dev.jamesatrn.customer;

/**
 * Runs one ATRN session against one provider (connect, EHLO, STARTTLS, AUTH, ATRN, and the
 * reversed session that receives the mail) and reports how it ended. Blocks the calling thread
 * until the connection is closed; never call it from a Netty event loop. Never throws for
 * anything the provider or the network does: that is a {@link PollOutcome}.
 */
public interface Poller {
    PollOutcome poll(Provider provider) throws InterruptedException;
}
