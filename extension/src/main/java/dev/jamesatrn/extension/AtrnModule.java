package dev.jamesatrn.extension;

import javax.inject.Singleton;

import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.server.core.configuration.ConfigurationProvider;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;

import dev.jamesatrn.mailets.AtrnConfiguration;
import dev.jamesatrn.mailets.ParkedMailStore;

/**
 * Listed in {@code conf/extensions.properties} as {@code guice.extension.module}. James builds
 * one child injector over it, and every handler of {@code smtpserver.xml} and every mailet and
 * matcher of {@code mailetcontainer.xml} is created through that injector, so they all share
 * these singletons: one configuration, one store, one set of domain claims.
 */
public class AtrnModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(ParkedMailStore.class).in(Singleton.class);
        bind(DomainClaims.class).in(Singleton.class);
        bind(OdmrSessions.class).in(Singleton.class);
    }

    @Provides
    @Singleton
    AtrnConfiguration configuration(ConfigurationProvider configurationProvider) throws ConfigurationException {
        return AtrnConfiguration.parse(configurationProvider.getConfiguration("atrn"),
            "conf/" + AtrnConfiguration.FILE_NAME);
    }
}
