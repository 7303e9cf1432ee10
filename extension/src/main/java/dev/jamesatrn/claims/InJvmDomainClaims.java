package dev.jamesatrn.claims;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.apache.james.core.Domain;

/** Claims held in this JVM: enough when one James serves every ODMR and SMTP connection. */
public class InJvmDomainClaims implements DomainClaimStore {
    private static final class Holder {
        private final String owner;
        private final long expiresAtNanos;

        Holder(String owner, long expiresAtNanos) {
            this.owner = owner;
            this.expiresAtNanos = expiresAtNanos;
        }

        String owner() {
            return owner;
        }

        long expiresAtNanos() {
            return expiresAtNanos;
        }

        boolean live(long now) {
            return now - expiresAtNanos < 0;
        }
    }

    private final Map<Domain, Holder> holders = new HashMap<>();

    @Override
    public synchronized boolean tryClaim(Domain domain, String owner, Duration lease) {
        long now = System.nanoTime();
        Holder current = holders.get(domain);
        if (current != null && current.live(now)) {
            return false;
        }
        holders.put(domain, new Holder(owner, now + lease.toNanos()));
        return true;
    }

    @Override
    public synchronized boolean renew(Domain domain, String owner, Duration lease) {
        long now = System.nanoTime();
        Holder current = holders.get(domain);
        if (current == null || !current.live(now) || !current.owner().equals(owner)) {
            return false;
        }
        holders.put(domain, new Holder(owner, now + lease.toNanos()));
        return true;
    }

    @Override
    public synchronized void release(Domain domain, String owner) {
        Holder current = holders.get(domain);
        if (current != null && current.owner().equals(owner)) {
            holders.remove(domain);
        }
    }

    @Override
    public synchronized Optional<String> ownerOf(Domain domain) {
        Holder current = holders.get(domain);
        return current != null && current.live(System.nanoTime()) ? Optional.of(current.owner()) : Optional.empty();
    }
}
