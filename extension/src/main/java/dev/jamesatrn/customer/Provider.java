package dev.jamesatrn.customer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import com.google.common.collect.ImmutableList;

/**
 * One provider this James collects its mail from over ATRN (RFC 2645), as the customer. Built
 * only by {@link CustomerConfiguration}, which validates every field; the session code can trust
 * what it finds here.
 */
public final class Provider {
    /** How the connection to the provider is protected. */
    public enum Tls {
        /** TLS from the first byte (RFC 8314 style, e.g. port 1366 of our samples). */
        IMPLICIT,
        /** Plain connect, then STARTTLS (RFC 3207) before AUTH; a provider without it is an error. */
        STARTTLS,
        /** No TLS at all: only accepted with an explicit opt-in in the configuration. */
        NONE
    }

    /** SASL mechanism for AUTH. PLAIN and LOGIN are only accepted with TLS. */
    public enum Mechanism {
        CRAM_MD5("CRAM-MD5"), PLAIN("PLAIN"), LOGIN("LOGIN");

        private final String saslName;

        Mechanism(String saslName) {
            this.saslName = saslName;
        }

        public String saslName() {
            return saslName;
        }
    }

    /** Where the provider's certificate is checked against; empty = the JVM's default trust. */
    public static final class Trust {
        public static final Trust JVM_DEFAULT = new Trust(Optional.empty(), Optional.empty(), "PKCS12");

        private final Optional<Path> trustStore;
        private final Optional<String> trustStorePassword;
        private final String trustStoreType;

        public Trust(Optional<Path> trustStore, Optional<String> trustStorePassword, String trustStoreType) {
            this.trustStore = trustStore;
            this.trustStorePassword = trustStorePassword;
            this.trustStoreType = trustStoreType;
        }

        public Optional<Path> trustStore() {
            return trustStore;
        }

        public Optional<String> trustStorePassword() {
            return trustStorePassword;
        }

        public String trustStoreType() {
            return trustStoreType;
        }
    }

    private final String name;
    private final String host;
    private final int port;
    private final Tls tls;
    private final boolean verifyCertificate;
    private final Trust trust;
    private final String login;
    private final String secret;
    private final Mechanism mechanism;
    private final List<String> domains;
    private final Duration pollInterval;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration commandTimeout;
    private final Duration atrnReplyTimeout;
    private final Duration maxReceiveTime;

    public Provider(String name, String host, int port, Tls tls, boolean verifyCertificate, Trust trust,
                    String login, String secret, Mechanism mechanism, List<String> domains,
                    Duration pollInterval, Duration initialBackoff, Duration maxBackoff,
                    Duration commandTimeout, Duration atrnReplyTimeout) {
        this(name, host, port, tls, verifyCertificate, trust, login, secret, mechanism, domains, pollInterval, initialBackoff,
            maxBackoff, commandTimeout, atrnReplyTimeout, CustomerConfiguration.DEFAULT_MAX_RECEIVE_TIME);
    }

    public Provider(String name, String host, int port, Tls tls, boolean verifyCertificate, Trust trust,
                    String login, String secret, Mechanism mechanism, List<String> domains,
                    Duration pollInterval, Duration initialBackoff, Duration maxBackoff,
                    Duration commandTimeout, Duration atrnReplyTimeout, Duration maxReceiveTime) {
        this.name = Objects.requireNonNull(name);
        this.host = Objects.requireNonNull(host);
        this.port = port;
        this.tls = Objects.requireNonNull(tls);
        this.verifyCertificate = verifyCertificate;
        this.trust = Objects.requireNonNull(trust);
        this.login = Objects.requireNonNull(login);
        this.secret = Objects.requireNonNull(secret);
        this.mechanism = Objects.requireNonNull(mechanism);
        this.domains = ImmutableList.copyOf(domains);
        this.pollInterval = Objects.requireNonNull(pollInterval);
        this.initialBackoff = Objects.requireNonNull(initialBackoff);
        this.maxBackoff = Objects.requireNonNull(maxBackoff);
        this.commandTimeout = Objects.requireNonNull(commandTimeout);
        this.atrnReplyTimeout = Objects.requireNonNull(atrnReplyTimeout);
        this.maxReceiveTime = Objects.requireNonNull(maxReceiveTime);
    }

    /** The operator's name for this provider: WebAdmin path segment, metric and log label. */
    public String name() {
        return name;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public Tls tls() {
        return tls;
    }

    /** False only when the operator turned certificate checks off explicitly (tests, labs). */
    public boolean verifyCertificate() {
        return verifyCertificate;
    }

    public Trust trust() {
        return trust;
    }

    public String login() {
        return login;
    }

    /** Never logged, never shown in WebAdmin or metrics. */
    public String secret() {
        return secret;
    }

    public Mechanism mechanism() {
        return mechanism;
    }

    /** Lower-case ASCII domain names to put after ATRN; empty = bare {@code ATRN}. */
    public List<String> domains() {
        return domains;
    }

    public Duration pollInterval() {
        return pollInterval;
    }

    public Duration initialBackoff() {
        return initialBackoff;
    }

    public Duration maxBackoff() {
        return maxBackoff;
    }

    /** RFC 5321 4.5.3.2: 5 minutes per command on either side, before and after the turn. */
    public Duration commandTimeout() {
        return commandTimeout;
    }

    /** RFC 2645 5.2.1: at least 10 minutes for the reply to ATRN. */
    public Duration atrnReplyTimeout() {
        return atrnReplyTimeout;
    }

    /**
     * The longest the reversed session (after {@code 250} to ATRN) may last. James's idle timeout
     * bounds each wait, not the whole: a provider sending a command now and then would otherwise
     * hold the poll, its thread and its claim for as long as it likes.
     */
    public Duration maxReceiveTime() {
        return maxReceiveTime;
    }

    @Override
    public String toString() {
        // No secret here: this string ends up in logs.
        return "Provider{" + name + " " + login + "@" + host + ":" + port + " " + tls + " " + mechanism + " " + domains + "}";
    }
}
