package dev.jamesatrn.extension;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.james.core.Domain;

import com.google.common.collect.ImmutableList;

/**
 * Who is draining which domain right now, in this JVM. James's mail repositories have no
 * ownership, so without a claim two sessions would deliver the same message twice. A session
 * claims all its domains at once or none (RFC 2645 answers 451 for the whole ATRN).
 */
public class DomainClaims {
    public record Claim(List<Domain> domains, String owner) {
    }

    private final Map<Domain, String> owners = new HashMap<>();

    public synchronized Optional<Claim> tryClaim(Collection<Domain> domains, String owner) {
        if (domains.stream().anyMatch(owners::containsKey)) {
            return Optional.empty();
        }
        domains.forEach(domain -> owners.put(domain, owner));
        return Optional.of(new Claim(ImmutableList.copyOf(domains), owner));
    }

    public synchronized void release(Claim claim) {
        claim.domains().forEach(domain -> owners.remove(domain, claim.owner()));
    }

    public synchronized boolean isClaimed(Domain domain) {
        return owners.containsKey(domain);
    }

    public synchronized Optional<String> ownerOf(Domain domain) {
        return Optional.ofNullable(owners.get(domain));
    }
}
