package dev.jamesatrn.cassandra;

import javax.inject.Singleton;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.OptionalBinder;

import dev.jamesatrn.claims.DomainClaimStore;

/**
 * For James's distributed app: listed in {@code conf/extensions.properties} after
 * {@code dev.jamesatrn.extension.AtrnModule}, it makes every drainer of every node claim domains
 * in Cassandra instead of in its own JVM. {@code setBinding} overrides AtrnModule's in-JVM default
 * because both modules live in the one child injector James builds over the listed modules.
 * The {@code CqlSession} comes from James's own injector.
 */
public class CassandraClaimsModule extends AbstractModule {
    @Override
    protected void configure() {
        OptionalBinder.newOptionalBinder(binder(), DomainClaimStore.class).setBinding().to(CassandraDomainClaims.class);
        bind(CassandraDomainClaims.class).in(Singleton.class);
    }
}
