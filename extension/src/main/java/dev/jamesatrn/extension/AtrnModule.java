package dev.jamesatrn.extension;

import javax.inject.Singleton;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.server.core.configuration.ConfigurationProvider;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.multibindings.OptionalBinder;

import dev.jamesatrn.claims.DomainClaimStore;
import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.claims.InJvmDomainClaims;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.drain.OdmrSessions;
import dev.jamesatrn.drain.ParkedMailExpiry;
import dev.jamesatrn.smtpserver.AuthFailureLimits;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * Listed in {@code conf/extensions.properties} as {@code guice.extension.module}. James builds
 * one child injector over it, and every handler of {@code smtpserver.xml} and every mailet and
 * matcher of {@code mailetcontainer.xml} is created through that injector, so they all share
 * these singletons: one configuration, one store, one claim store.
 */
public class AtrnModule extends AbstractModule {
    private static final Logger LOGGER = LoggerFactory.getLogger(AtrnModule.class);
    private static final int DEFAULT_JAMES_IDLE_TIMEOUT_SECONDS = 300;
    private static final int RFC_2645_MINIMUM_SECONDS = 600;

    @Override
    protected void configure() {
        bind(ParkedMailStore.class).in(Singleton.class);
        // The default claim store; a cluster-wide one replaces it when its module is listed too
        // in extensions.properties (OptionalBinder.setBinding wins over setDefault).
        OptionalBinder.newOptionalBinder(binder(), DomainClaimStore.class).setDefault().to(InJvmDomainClaims.class);
        bind(InJvmDomainClaims.class).in(Singleton.class);
        bind(DomainLeases.class).in(Singleton.class);
        bind(OdmrSessions.class).in(Singleton.class);
        // One count for every ODMR port: the limits are per client and per login, not per server.
        bind(AuthFailureLimits.class).in(Singleton.class);
        // Not eager: James creates this child injector while its own repository store is still
        // being built. The ATRN handler injects it, which starts the sweep once James is ready.
        bind(ParkedMailExpiry.class).in(Singleton.class);
        install(new dev.jamesatrn.customer.CustomerModule());
    }

    @Provides
    @Singleton
    AtrnConfiguration configuration(ConfigurationProvider configurationProvider) throws ConfigurationException {
        AtrnConfiguration configuration = AtrnConfiguration.parse(configurationProvider.getConfiguration("atrn"),
            "conf/" + AtrnConfiguration.FILE_NAME);
        HierarchicalConfiguration<ImmutableNode> smtpservers = configurationProvider.getConfiguration("smtpserver");
        checkOdmrIdleTimeout(smtpservers, configuration);
        checkInboundRcptChain(smtpservers);
        return configuration;
    }

    /**
     * {@link AtrnRcptHook} used to accept ATRN recipients itself with OK, which made James skip every
     * later RCPT hook; now James's relay check must know ATRN domains, which only
     * {@link AtrnInboundHandlersPackage} arranges. An smtpserver.xml of the old form would refuse
     * all ATRN mail as relaying: stop at start instead.
     */
    static void checkInboundRcptChain(HierarchicalConfiguration<ImmutableNode> smtpservers) throws ConfigurationException {
        for (HierarchicalConfiguration<ImmutableNode> server : smtpservers.configurationsAt("smtpserver")) {
            boolean listsRcptHook = server.configurationsAt("handlerchain.handler").stream()
                .anyMatch(handler -> AtrnRcptHook.class.getName().equals(handler.getString("[@class]", "").trim()));
            String corePackage = server.getString("handlerchain[@coreHandlersPackage]", "").trim();
            if (!listsRcptHook || AtrnInboundHandlersPackage.class.getName().equals(corePackage)
                || !server.getBoolean("[@enabled]", true)) {
                continue;
            }
            String name = server.getString("jmxName", "the inbound server");
            throw new ConfigurationException("conf/smtpserver.xml: key 'handlerchain[@coreHandlersPackage]' of <smtpserver> '"
                + name + "': it lists " + AtrnRcptHook.class.getSimpleName() + " with "
                + (corePackage.isEmpty() ? "James's default core handlers" : corePackage)
                + ", whose relay check refuses mail for ATRN domains. Fix: <handlerchain coreHandlersPackage=\""
                + AtrnInboundHandlersPackage.class.getName() + "\"> in that <smtpserver>, and remove <handler class=\""
                + AtrnRcptHook.class.getName() + "\"/> (the package includes it).");
        }
    }

    /**
     * James closes a connection that has sent nothing for {@code <connectiontimeout>} seconds. In
     * the reversed session the customer is silent while we stream a message and while it
     * processes the final dot, so that timeout must cover RFC 2645's 10 minutes and, ideally, the
     * longest transfer plus {@code timeouts/dataTermination}.
     */
    static void checkOdmrIdleTimeout(HierarchicalConfiguration<ImmutableNode> smtpservers, AtrnConfiguration configuration)
            throws ConfigurationException {
        for (HierarchicalConfiguration<ImmutableNode> server : smtpservers.configurationsAt("smtpserver")) {
            if (!OdmrHandlersPackage.class.getName().equals(server.getString("handlerchain[@coreHandlersPackage]", ""))
                || !server.getBoolean("[@enabled]", true)) {
                continue;
            }
            String name = server.getString("jmxName", "the ODMR server");
            int seconds = server.getInt("connectiontimeout", DEFAULT_JAMES_IDLE_TIMEOUT_SECONDS);
            if (seconds < RFC_2645_MINIMUM_SECONDS) {
                throw new ConfigurationException("conf/smtpserver.xml: key 'connectiontimeout' of <smtpserver> '" + name
                    + "': " + seconds + " s is below the 10 minutes RFC 2645 section 5.2.1 requires for ATRN. "
                    + "Fix: <connectiontimeout>1800</connectiontimeout> in that <smtpserver>.");
            }
            long needed = configuration.timeouts().dataBlock().plus(configuration.timeouts().dataTermination()).toSeconds();
            if (seconds < needed) {
                LOGGER.warn("conf/smtpserver.xml: <connectiontimeout> {} s of '{}' is shorter than timeouts/dataBlock + "
                    + "timeouts/dataTermination of conf/atrn.xml ({} s): James may cut a slow customer mid-DATA", seconds, name, needed);
            }
        }
    }
}
