package dev.jamesatrn.customer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;

import com.google.common.collect.ImmutableList;

import dev.jamesatrn.config.AtrnConfiguration;

/**
 * The customer role (this James collects its own domains' mail from providers over ATRN, RFC
 * 2645), read from a file of its own, {@code conf/atrn-customer.xml}, so that a provider-only
 * James never sees it. No {@code <provider>} (or no file at all) means the role is off and
 * nothing is started. Read by {@link CustomerConfigurationParser}: every problem is reported at
 * once, each with file, key and fix, like {@link AtrnConfiguration}: they stop James at start.
 */
public final class CustomerConfiguration {
    public static final String FILE_NAME = "atrn-customer.xml";
    public static final String DEFAULT_INBOUND_SERVER = "smtpserver-global";
    public static final int DEFAULT_MAX_PARALLEL_POLLS = 4;
    public static final Duration DEFAULT_CLAIM_LEASE = Duration.ofMinutes(2);
    /** RFC 2645 section 3; a provider offering TLS from the first byte has no registered port: ours is 1366. */
    public static final int ODMR_PORT = 366;
    public static final int IMPLICIT_TLS_PORT = 1366;
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMinutes(15);
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMinutes(1);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofHours(1);
    /** Far above a small site's drain; what is not received by then waits at the provider for the next poll. */
    public static final Duration DEFAULT_MAX_RECEIVE_TIME = Duration.ofHours(1);
    /** RFC 5321 section 4.5.3.2. */
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMinutes(5);
    /** RFC 2645 section 5.2.1: "at least 10 minutes" for the reply to ATRN. */
    public static final Duration MINIMUM_ATRN_REPLY_TIMEOUT = Duration.ofMinutes(10);
    /** RFC 5321 section 4.5.3.1.4: a command line, CRLF included. */
    static final int MAX_COMMAND_LINE = 512;

    public static final CustomerConfiguration OFF = new CustomerConfiguration(List.of(), DEFAULT_INBOUND_SERVER,
        DEFAULT_MAX_PARALLEL_POLLS, DEFAULT_CLAIM_LEASE);

    /** What the parser reads besides the XML: files named in it, and the environment. */
    interface Surroundings {
        /** A path as written in the file: {@code file://} James paths too, in the Guice wiring. */
        Path resolve(String path) throws IOException;

        Optional<String> environment(String name);

        static Surroundings of(Function<String, Path> resolver) {
            return new Surroundings() {
                @Override
                public Path resolve(String path) throws IOException {
                    try {
                        return resolver.apply(path);
                    } catch (UncheckedIOException e) {
                        throw e.getCause();
                    }
                }

                @Override
                public Optional<String> environment(String name) {
                    return Optional.ofNullable(System.getenv(name));
                }
            };
        }
    }

    public static CustomerConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source)
            throws ConfigurationException {
        return parse(config, source, Surroundings.of(Path::of));
    }

    static CustomerConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source,
                                       Surroundings surroundings) throws ConfigurationException {
        return CustomerConfigurationParser.parse(config, source, surroundings);
    }

    private final List<Provider> providers;
    private final String inboundServer;
    private final int maxParallelPolls;
    private final Duration claimLease;

    public CustomerConfiguration(List<Provider> providers, String inboundServer, int maxParallelPolls, Duration claimLease) {
        this.providers = ImmutableList.copyOf(providers);
        this.inboundServer = inboundServer;
        this.maxParallelPolls = maxParallelPolls;
        this.claimLease = claimLease;
    }

    /** In file order; empty when the customer role is off. */
    public List<Provider> providers() {
        return providers;
    }

    public boolean enabled() {
        return !providers.isEmpty();
    }

    /** The {@code <jmxName>} of the {@code <smtpserver>} whose settings the reversed sessions take (limits, handlers). */
    public String inboundServer() {
        return inboundServer;
    }

    /** How many providers may be polled at the same time (each poll holds a thread for its whole session). */
    public int maxParallelPolls() {
        return maxParallelPolls;
    }

    /** Lease of the claim that keeps a provider's poll on one node of a cluster; renewed every third of it. */
    public Duration claimLease() {
        return claimLease;
    }
}
