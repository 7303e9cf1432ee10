package dev.jamesatrn.customer;

import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.james.core.Domain;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.smtp.SMTPSession;

import com.google.common.collect.ImmutableSet;

/**
 * What the reversed session of one poll needs to know and counts, kept on James's SMTP session
 * (connection state, which survives RSET) so that the hooks of {@link CustomerHandlersPackage}
 * find it: James 3.8.1 instantiates handlers once per server, not per connection.
 */
final class PollContext {
    static final ProtocolSession.AttachmentKey<PollContext> KEY =
        ProtocolSession.AttachmentKey.of("dev.jamesatrn.customer.PollContext", PollContext.class);

    private final String providerName;
    private final Set<Domain> requested;
    private final AtomicInteger messages = new AtomicInteger();
    private final AtomicLong bytes = new AtomicLong();

    PollContext(String providerName, Set<Domain> requested) {
        this.providerName = providerName;
        this.requested = ImmutableSet.copyOf(requested);
    }

    static java.util.Optional<PollContext> of(SMTPSession session) {
        return session.getAttachment(KEY, ProtocolSession.State.Connection);
    }

    String providerName() {
        return providerName;
    }

    /** Empty for a bare ATRN: then the local domains of this James are what was requested. */
    Set<Domain> requested() {
        return requested;
    }

    void enqueued(long size) {
        messages.incrementAndGet();
        bytes.addAndGet(Math.max(0, size));
    }

    int messages() {
        return messages.get();
    }

    long bytes() {
        return bytes.get();
    }
}
