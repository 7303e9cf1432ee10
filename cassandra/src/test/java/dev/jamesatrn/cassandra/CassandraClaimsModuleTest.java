package dev.jamesatrn.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.NoopGaugeRegistry;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.protocols.lib.handler.ProtocolHandlerLoader;
import org.apache.james.server.core.configuration.ConfigurationProvider;
import org.apache.mailet.MailetContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.datastax.oss.driver.api.core.CqlSession;
import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;

import dev.jamesatrn.claims.DomainClaimStore;
import dev.jamesatrn.claims.InJvmDomainClaims;
import dev.jamesatrn.extension.AtrnModule;

/**
 * The modules an operator lists in {@code extensions.properties}, in one injector as James's
 * child injector holds them: with the Cassandra module every claim goes to the shared table,
 * without it the in-JVM default stays.
 */
class CassandraClaimsModuleTest {
    private static CqlSession session;

    @BeforeAll
    static void connect() {
        session = EmbeddedCassandra.get().session();
    }

    @AfterAll
    static void disconnect() {
        if (session != null) {
            session.close();
        }
    }

    @Test
    void theDistributedSampleListsBothModulesAndTheyBindTheCassandraClaims() throws Exception {
        Injector injector = Guice.createInjector(jamesParent()).createChildInjector(modulesOf("../config-samples/cassandra/extensions.properties"));

        assertThat(injector.getInstance(DomainClaimStore.class)).isInstanceOf(CassandraDomainClaims.class);
        // One store for every drainer of the node: the binding is a singleton.
        assertThat(injector.getInstance(DomainClaimStore.class)).isSameAs(injector.getInstance(DomainClaimStore.class));
    }

    @Test
    void theSingleNodeSampleKeepsTheInJvmClaims() throws Exception {
        Injector injector = Guice.createInjector(jamesParent()).createChildInjector(modulesOf("../config-samples/extensions.properties"));

        assertThat(injector.getInstance(DomainClaimStore.class)).isInstanceOf(InJvmDomainClaims.class);
    }

    @Test
    void theCassandraModuleOverridesTheDefaultWhateverTheOrder() {
        Injector injector = Guice.createInjector(jamesParent())
            .createChildInjector(new CassandraClaimsModule(), new AtrnModule());

        assertThat(injector.getInstance(DomainClaimStore.class)).isInstanceOf(CassandraDomainClaims.class);
    }

    /** What James's own injector provides to the extension's; only the session is used here. */
    private static Module jamesParent() {
        return new AbstractModule() {
            @Override
            protected void configure() {
                bind(CqlSession.class).toInstance(session);
                // Only the customer role asks, at start, for its optional file: absent here, so the role is off.
                bind(ConfigurationProvider.class).toInstance((component, level) -> {
                    if (component.equals("atrn-customer")) {
                        return new BaseHierarchicalConfiguration();
                    }
                    throw new UnsupportedOperationException("not needed to pick the claim store");
                });
                bind(MailRepositoryStore.class).toProvider(() -> {
                    throw new UnsupportedOperationException("not needed to pick the claim store");
                });
                bind(MailetContext.class).toProvider(() -> {
                    throw new UnsupportedOperationException("not needed to pick the claim store");
                });
                // The customer role's scheduler is an eager singleton and takes its metrics at start.
                bind(MetricFactory.class).toInstance(new RecordingMetricFactory());
                bind(GaugeRegistry.class).toInstance(new NoopGaugeRegistry());
                // For the customer role's session, which AtrnModule installs too.
                bind(DNSService.class).toProvider(() -> {
                    throw new UnsupportedOperationException("not needed to pick the claim store");
                });
                bind(FileSystem.class).toProvider(() -> {
                    throw new UnsupportedOperationException("not needed to pick the claim store");
                });
                bind(ProtocolHandlerLoader.class).toProvider(() -> {
                    throw new UnsupportedOperationException("not needed to pick the claim store");
                });
            }
        };
    }

    /** The guice.extension.module list of a shipped extensions.properties, instantiated as James does. */
    private static List<Module> modulesOf(String file) throws Exception {
        Properties properties = new Properties();
        try (var in = Files.newInputStream(Path.of(file))) {
            properties.load(in);
        }
        List<Module> modules = new ArrayList<>();
        for (String name : properties.getProperty("guice.extension.module").split(",")) {
            modules.add((Module) Class.forName(name.trim()).getDeclaredConstructor().newInstance());
        }
        return modules;
    }
}
