package dev.jamesatrn.claims;

import java.time.Duration;
import java.util.Optional;

import org.apache.james.core.Domain;

/**
 * Who may take mail out of a domain's parked store right now. James's mail repositories have no
 * ownership, so without a claim two drainers (ATRN, ETRN, the expiry sweep, WebAdmin, or the
 * same on another James node) would deliver one message twice. A claim is a lease: it lapses
 * unless its owner renews it, so a crashed owner cannot hold a domain for ever.
 *
 * <p>Implementations are chosen by the Guice module listed in {@code extensions.properties}:
 * {@link InJvmDomainClaims} (the default, one James) or a cluster-wide one. Calls may do network
 * I/O: never call them on a Netty event loop.
 */
public interface DomainClaimStore {
    /** Claims {@code domain} for {@code owner} for {@code lease}; false when someone (the owner included) holds it. */
    boolean tryClaim(Domain domain, String owner, Duration lease);

    /** Extends the owner's lease to {@code lease} from now; false when the owner no longer holds it. */
    boolean renew(Domain domain, String owner, Duration lease);

    /** Gives the domain up if {@code owner} holds it; another owner's claim is left alone. */
    void release(Domain domain, String owner);

    /** The current holder, if the domain is claimed and its lease has not lapsed. */
    Optional<String> ownerOf(Domain domain);
}
