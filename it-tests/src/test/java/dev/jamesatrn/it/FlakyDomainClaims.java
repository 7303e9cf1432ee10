package dev.jamesatrn.it;

import java.time.Duration;
import java.util.Optional;

import javax.inject.Singleton;

import org.apache.james.core.Domain;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.OptionalBinder;

import dev.jamesatrn.claims.DomainClaimStore;
import dev.jamesatrn.claims.InJvmDomainClaims;

/**
 * The in-JVM claim store, except for {@link #POISONED}: as a cluster-wide store can behave, its
 * claim is refused (someone holds it) and reading who holds it then fails (a read timeout).
 * Listed in the test's {@code extensions.properties} after AtrnModule, as the Cassandra module is.
 */
@Singleton
public class FlakyDomainClaims extends InJvmDomainClaims {
    static final Domain POISONED = Domain.of("b.leak.example");
    private static volatile FlakyDomainClaims instance;

    public FlakyDomainClaims() {
        instance = this;
    }

    /** The store James uses: tests read the claims in it. */
    static FlakyDomainClaims instance() {
        return instance;
    }

    @Override
    public boolean tryClaim(Domain domain, String owner, Duration lease) {
        return !domain.equals(POISONED) && super.tryClaim(domain, owner, lease);
    }

    @Override
    public Optional<String> ownerOf(Domain domain) {
        if (domain.equals(POISONED)) {
            throw new IllegalStateException("Cassandra timeout during SERIAL read query (simulated)");
        }
        return super.ownerOf(domain);
    }

    public static class Module extends AbstractModule {
        @Override
        protected void configure() {
            OptionalBinder.newOptionalBinder(binder(), DomainClaimStore.class).setBinding().to(FlakyDomainClaims.class);
        }
    }
}
