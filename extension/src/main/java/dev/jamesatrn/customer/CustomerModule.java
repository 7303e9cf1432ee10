package dev.jamesatrn.customer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.inject.Singleton;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.lib.handler.ProtocolHandlerLoader;
import org.apache.james.server.core.configuration.ConfigurationProvider;
import org.apache.james.util.LoggingLevel;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.multibindings.OptionalBinder;

/**
 * The ODMR customer role: {@code conf/atrn-customer.xml}, the poll scheduler and its WebAdmin
 * routes ({@link CustomerRoutes}, listed in {@code webadmin.properties}). Installed by the
 * extension's module, so it lives in the same child injector and shares its claim store.
 */
public class CustomerModule extends AbstractModule {
    static final String SOURCE = "conf/" + CustomerConfiguration.FILE_NAME;
    private static final String COMPONENT = "atrn-customer";

    @Override
    protected void configure() {
        // The session (connect, TLS, AUTH, ATRN, the reversed SMTP server). Optional so that a test
        // module can put a scripted session in its place.
        OptionalBinder.newOptionalBinder(binder(), Poller.class).setDefault().to(OdmrCustomerPoller.class);
        bind(CustomerMetrics.class).in(Singleton.class);
        // Eager: with WebAdmin off nothing else would create it. With no provider it starts no thread.
        bind(PollScheduler.class).asEagerSingleton();
        bind(CustomerRoutes.class).in(Singleton.class);
    }

    /** Created on the first poll only (the scheduler asks for it lazily), so a James without providers builds nothing. */
    @Provides
    @Singleton
    OdmrCustomerPoller customerSession(ConfigurationProvider configurations, CustomerConfiguration customer, FileSystem fileSystem,
                                       ProtocolHandlerLoader loader, DNSService dns, MetricFactory metricFactory) throws Exception {
        return OdmrCustomerPoller.create(configurations, customer.inboundServer(), fileSystem, loader, dns, metricFactory);
    }

    @Provides
    @Singleton
    CustomerConfiguration configuration(ConfigurationProvider configurationProvider,
                                        javax.inject.Provider<FileSystem> fileSystem) throws ConfigurationException {
        Optional<HierarchicalConfiguration<ImmutableNode>> xml = read(configurationProvider);
        if (xml.isEmpty()) {
            return CustomerConfiguration.OFF;
        }
        CustomerConfiguration configuration = CustomerConfiguration.parse(xml.get(), SOURCE,
            CustomerConfiguration.Surroundings.of(path -> resolve(fileSystem.get(), path)));
        if (configuration.enabled()) {
            checkInboundServer(configurationProvider.getConfiguration("smtpserver"), configuration);
        }
        return configuration;
    }

    /**
     * James 3.8.1's FileConfigurationProvider answers a missing file with an empty configuration
     * (logged at the level given, INFO here: the file is optional), or, under
     * {@code -Djames.fail.on.missing.configuration=true}, with "Missing configuration: ...": either
     * way the role is off. A file that does not parse still stops James.
     */
    private static Optional<HierarchicalConfiguration<ImmutableNode>> read(ConfigurationProvider configurationProvider)
            throws ConfigurationException {
        try {
            return Optional.of(configurationProvider.getConfiguration(COMPONENT, LoggingLevel.INFO));
        } catch (ConfigurationException e) {
            if (String.valueOf(e.getMessage()).startsWith("Missing configuration")) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** James paths (file://conf/...) as in smtpserver.xml's keystore; anything else is a file system path. */
    private static Path resolve(FileSystem fileSystem, String path) {
        if (!path.contains("://") && !path.startsWith("classpath:")) {
            return Path.of(path);
        }
        try {
            return fileSystem.getFile(path).toPath();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The reversed sessions take the inbound server's settings: it must exist, or no poll could ever deliver. */
    static void checkInboundServer(HierarchicalConfiguration<ImmutableNode> smtpservers, CustomerConfiguration configuration)
            throws ConfigurationException {
        List<String> enabled = smtpservers.configurationsAt("smtpserver").stream()
            .filter(server -> server.getBoolean("[@enabled]", true))
            .map(server -> server.getString("jmxName", "").trim())
            .collect(Collectors.toList());
        if (!enabled.contains(configuration.inboundServer())) {
            throw new ConfigurationException(SOURCE + ": key 'inboundServer': no enabled <smtpserver> of conf/smtpserver.xml has "
                + "<jmxName>" + configuration.inboundServer() + "</jmxName> (enabled ones: " + String.join(", ", enabled)
                + "). Fix: write the jmxName of the server that receives mail from the Internet, e.g. "
                + CustomerConfiguration.DEFAULT_INBOUND_SERVER + ".");
        }
    }
}
