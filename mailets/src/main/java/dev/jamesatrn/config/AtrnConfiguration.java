package dev.jamesatrn.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.core.Username;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.util.DurationParser;

import com.google.common.base.Splitter;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.net.HostAndPort;

/**
 * Everything an operator decides about ATRN, read from one file ({@code conf/atrn.xml}).
 * The only mandatory part is the domain -> logins map (Postfix's {@code atrn_domain_login_maps}
 * in the seed design); everything else has a default that should rarely need changing.
 */
public final class AtrnConfiguration {
    public static final String FILE_NAME = "atrn.xml";
    public static final String DEFAULT_REPOSITORY_PREFIX = "file://var/mail/atrn/";

    /**
     * Which reversed sessions write every line (command or message data) in a TLS record of its
     * own. fetchmail, the common ODMR customer, has no STARTTLS in ODMR mode and reads TLS from
     * the first byte one line per SSL_read, then waits in select() on the raw socket: further
     * lines of the same record sit in OpenSSL's buffer, which select() never sees, and the
     * session stalls. A record per line costs throughput, so by default only implicit-TLS
     * connections (the port fetchmail's ssl option needs) get it; STARTTLS customers are
     * proper TLS clients.
     */
    public enum TlsRecordPerLine {
        IMPLICIT_TLS("implicitTls"), ALL_TLS("allTls"), NEVER("never");

        private final String configValue;

        TlsRecordPerLine(String configValue) {
            this.configValue = configValue;
        }

        public String configValue() {
            return configValue;
        }

        /**
         * @param tls the connection is encrypted
         * @param startTls the server offers STARTTLS (so its TLS, if any, came from STARTTLS)
         */
        public boolean appliesTo(boolean tls, boolean startTls) {
            switch (this) {
                case IMPLICIT_TLS:
                    return tls && !startTls;
                case ALL_TLS:
                    return tls;
                default:
                    return false;
            }
        }
    }

    /** Client-side timeouts of RFC 5321 section 4.5.3.2, used for the reversed session. */
    public static final class Timeouts {
        public static final Timeouts RFC_5321 = new Timeouts(Duration.ofMinutes(5), Duration.ofMinutes(5),
            Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMinutes(2), Duration.ofMinutes(3),
            Duration.ofMinutes(10));

        private final Duration greeting;
        private final Duration command;
        private final Duration mail;
        private final Duration rcpt;
        private final Duration dataInitiation;
        private final Duration dataBlock;
        private final Duration dataTermination;

        public Timeouts(Duration greeting, Duration command, Duration mail, Duration rcpt,
                        Duration dataInitiation, Duration dataBlock, Duration dataTermination) {
            this.greeting = greeting;
            this.command = command;
            this.mail = mail;
            this.rcpt = rcpt;
            this.dataInitiation = dataInitiation;
            this.dataBlock = dataBlock;
            this.dataTermination = dataTermination;
        }

        public Duration greeting() {
            return greeting;
        }

        public Duration command() {
            return command;
        }

        public Duration mail() {
            return mail;
        }

        public Duration rcpt() {
            return rcpt;
        }

        public Duration dataInitiation() {
            return dataInitiation;
        }

        public Duration dataBlock() {
            return dataBlock;
        }

        public Duration dataTermination() {
            return dataTermination;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Timeouts)) {
                return false;
            }
            Timeouts other = (Timeouts) o;
            return Objects.equals(greeting, other.greeting) && Objects.equals(command, other.command)
                && Objects.equals(mail, other.mail) && Objects.equals(rcpt, other.rcpt)
                && Objects.equals(dataInitiation, other.dataInitiation) && Objects.equals(dataBlock, other.dataBlock)
                && Objects.equals(dataTermination, other.dataTermination);
        }

        @Override
        public int hashCode() {
            return Objects.hash(greeting, command, mail, rcpt, dataInitiation, dataBlock, dataTermination);
        }

        @Override
        public String toString() {
            return "Timeouts[greeting=" + greeting + ", command=" + command + ", mail=" + mail + ", rcpt=" + rcpt
                + ", dataInitiation=" + dataInitiation + ", dataBlock=" + dataBlock + ", dataTermination=" + dataTermination + "]";
        }
    }

    /**
     * What protects mail and the service over time: parked lifetime (Postfix's
     * maximal_queue_lifetime, 5 days), an optional delay warning, the pause after a failed AUTH,
     * and an optional minimum interval between two ATRN of one login (RFC 2645 allows 450).
     */
    public static final class Policies {
        public static final Policies DEFAULT = new Policies(Duration.ofDays(5), Optional.empty(), "atrn-delay-warnings",
            Duration.ofMinutes(1), Duration.ofSeconds(1), Optional.empty(), Duration.ofMinutes(2));

        private final Duration maxParkedLifetime;
        private final Optional<Duration> delayWarningAfter;
        private final String delayWarningProcessor;
        private final Duration expiryCheckInterval;
        private final Duration authFailureDelay;
        private final Optional<Duration> minAtrnInterval;
        private final Duration claimLease;

        public Policies(Duration maxParkedLifetime, Optional<Duration> delayWarningAfter, String delayWarningProcessor,
                        Duration expiryCheckInterval, Duration authFailureDelay, Optional<Duration> minAtrnInterval,
                        Duration claimLease) {
            this.maxParkedLifetime = maxParkedLifetime;
            this.delayWarningAfter = delayWarningAfter;
            this.delayWarningProcessor = delayWarningProcessor;
            this.expiryCheckInterval = expiryCheckInterval;
            this.authFailureDelay = authFailureDelay;
            this.minAtrnInterval = minAtrnInterval;
            this.claimLease = claimLease;
        }

        public Duration maxParkedLifetime() {
            return maxParkedLifetime;
        }

        public Optional<Duration> delayWarningAfter() {
            return delayWarningAfter;
        }

        public String delayWarningProcessor() {
            return delayWarningProcessor;
        }

        public Duration expiryCheckInterval() {
            return expiryCheckInterval;
        }

        public Duration authFailureDelay() {
            return authFailureDelay;
        }

        public Optional<Duration> minAtrnInterval() {
            return minAtrnInterval;
        }

        public Duration claimLease() {
            return claimLease;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Policies)) {
                return false;
            }
            Policies other = (Policies) o;
            return Objects.equals(maxParkedLifetime, other.maxParkedLifetime)
                && Objects.equals(delayWarningAfter, other.delayWarningAfter)
                && Objects.equals(delayWarningProcessor, other.delayWarningProcessor)
                && Objects.equals(expiryCheckInterval, other.expiryCheckInterval)
                && Objects.equals(authFailureDelay, other.authFailureDelay)
                && Objects.equals(minAtrnInterval, other.minAtrnInterval)
                && Objects.equals(claimLease, other.claimLease);
        }

        @Override
        public int hashCode() {
            return Objects.hash(maxParkedLifetime, delayWarningAfter, delayWarningProcessor, expiryCheckInterval,
                authFailureDelay, minAtrnInterval, claimLease);
        }

        @Override
        public String toString() {
            return "Policies[maxParkedLifetime=" + maxParkedLifetime + ", delayWarningAfter=" + delayWarningAfter
                + ", delayWarningProcessor=" + delayWarningProcessor + ", expiryCheckInterval=" + expiryCheckInterval
                + ", authFailureDelay=" + authFailureDelay + ", minAtrnInterval=" + minAtrnInterval
                + ", claimLease=" + claimLease + "]";
        }
    }

    /**
     * Failed AUTH across connections (the delay and the three strikes of {@code authFailureDelay}
     * are per connection, so N parallel connections would give N guesses at once): at most so many
     * failures per client address and per login within a window that starts at the first of them.
     * 0 turns a limit off.
     */
    public static final class AuthLimits {
        public static final AuthLimits DEFAULT = new AuthLimits(20, 10, Duration.ofMinutes(10));

        private final int failuresPerAddress;
        private final int failuresPerLogin;
        private final Duration window;

        public AuthLimits(int failuresPerAddress, int failuresPerLogin, Duration window) {
            this.failuresPerAddress = failuresPerAddress;
            this.failuresPerLogin = failuresPerLogin;
            this.window = window;
        }

        public int failuresPerAddress() {
            return failuresPerAddress;
        }

        public int failuresPerLogin() {
            return failuresPerLogin;
        }

        public Duration window() {
            return window;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof AuthLimits)) {
                return false;
            }
            AuthLimits other = (AuthLimits) o;
            return failuresPerAddress == other.failuresPerAddress && failuresPerLogin == other.failuresPerLogin
                && Objects.equals(window, other.window);
        }

        @Override
        public int hashCode() {
            return Objects.hash(failuresPerAddress, failuresPerLogin, window);
        }

        @Override
        public String toString() {
            return "AuthLimits[failuresPerAddress=" + failuresPerAddress + ", failuresPerLogin=" + failuresPerLogin
                + ", window=" + window + "]";
        }
    }

    /**
     * What keeps ETRN (RFC 1985, no AUTH needed) from being used against the service: each
     * client address may start {@code maxEtrnPerClient} ETRN within {@code etrnClientWindow}
     * (IPv6 clients counted per /64), and {@code ownHostNames} are the names, besides the
     * {@code <helloName>} of every server in smtpserver.xml, that mean "this server" when a peer
     * greets or answers EHLO with them (other nodes of a cluster): mail for it would loop.
     */
    public static final class EtrnPolicies {
        public static final EtrnPolicies DEFAULT = new EtrnPolicies(10, Duration.ofMinutes(1), ImmutableSet.of());

        private final int maxEtrnPerClient;
        private final Duration etrnClientWindow;
        private final Set<String> ownHostNames;

        public EtrnPolicies(int maxEtrnPerClient, Duration etrnClientWindow, Set<String> ownHostNames) {
            this.maxEtrnPerClient = maxEtrnPerClient;
            this.etrnClientWindow = etrnClientWindow;
            this.ownHostNames = ImmutableSet.copyOf(ownHostNames);
        }

        public int maxEtrnPerClient() {
            return maxEtrnPerClient;
        }

        public Duration etrnClientWindow() {
            return etrnClientWindow;
        }

        /** Lower case, without a trailing dot. */
        public Set<String> ownHostNames() {
            return ownHostNames;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof EtrnPolicies)) {
                return false;
            }
            EtrnPolicies other = (EtrnPolicies) o;
            return maxEtrnPerClient == other.maxEtrnPerClient && Objects.equals(etrnClientWindow, other.etrnClientWindow)
                && Objects.equals(ownHostNames, other.ownHostNames);
        }

        @Override
        public int hashCode() {
            return Objects.hash(maxEtrnPerClient, etrnClientWindow, ownHostNames);
        }

        @Override
        public String toString() {
            return "EtrnPolicies[maxEtrnPerClient=" + maxEtrnPerClient + ", etrnClientWindow=" + etrnClientWindow
                + ", ownHostNames=" + ownHostNames + "]";
        }
    }

    /**
     * One ATRN domain. {@code etrnRelay}: where an ETRN (RFC 1985) for it delivers; empty means
     * the domain's MX hosts.
     */
    public static final class AtrnDomain {
        private final Domain domain;
        private final Set<String> logins;
        private final Optional<Set<MailAddress>> recipients;
        private final Optional<HostAndPort> etrnRelay;

        public AtrnDomain(Domain domain, Set<String> logins, Optional<Set<MailAddress>> recipients,
                          Optional<HostAndPort> etrnRelay) {
            this.domain = domain;
            this.logins = logins;
            this.recipients = recipients;
            this.etrnRelay = etrnRelay;
        }

        public Domain domain() {
            return domain;
        }

        public Set<String> logins() {
            return logins;
        }

        public Optional<Set<MailAddress>> recipients() {
            return recipients;
        }

        public Optional<HostAndPort> etrnRelay() {
            return etrnRelay;
        }

        public boolean accepts(MailAddress recipient) {
            return recipients.map(valid -> valid.contains(recipient)).orElse(true);
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof AtrnDomain)) {
                return false;
            }
            AtrnDomain other = (AtrnDomain) o;
            return Objects.equals(domain, other.domain) && Objects.equals(logins, other.logins)
                && Objects.equals(recipients, other.recipients) && Objects.equals(etrnRelay, other.etrnRelay);
        }

        @Override
        public int hashCode() {
            return Objects.hash(domain, logins, recipients, etrnRelay);
        }

        @Override
        public String toString() {
            return "AtrnDomain[domain=" + domain + ", logins=" + logins + ", recipients=" + recipients
                + ", etrnRelay=" + etrnRelay + "]";
        }
    }

    private static final Pattern LDH_DOMAIN = Pattern.compile(
        "^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$");

    private static final Pattern HOST_NAME = Pattern.compile(
        "^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$");

    // Keys as commons-configuration reports them (no indexes); anything else is a typo.
    private static final Set<String> KNOWN_KEYS = ImmutableSet.of(
        "repositoryUrlPrefix", "bounceProcessor", "allowPlainAuthWithoutTls", "maxConcurrentSessions", "maxParallelTransfers",
        "tlsRecordPerLine", "maxEtrnDeliveries",
        "timeouts.greeting", "timeouts.command", "timeouts.mail", "timeouts.rcpt",
        "timeouts.dataInitiation", "timeouts.dataBlock", "timeouts.dataTermination",
        "maxParkedLifetime", "delayWarningAfter", "delayWarningProcessor", "expiryCheckInterval", "authFailureDelay",
        "minAtrnInterval", "claimLease", "authFailuresPerAddress", "authFailuresPerLogin", "authFailureWindow",
        "maxEtrnPerClient", "etrnClientWindow", "ownHostNames",
        "logins.login[@name]", "logins.login[@secret]",
        "domains.domain[@name]", "domains.domain.login", "domains.domain.recipients", "domains.domain.etrnRelay");

    /**
     * The longest value each duration key takes. The code adds durations to clocks and turns them
     * into nanoseconds (Duration.toNanos overflows past 292 years: "200000d" threw on the event
     * loop at every ETRN); past these values a setting is a typo, never a policy.
     */
    private static final Map<String, Duration> LONGEST = ImmutableMap.<String, Duration>builder()
        // RFC 5321 section 4.5.3.2 asks for 2 to 10 minutes
        .put("timeouts.greeting", Duration.ofHours(1))
        .put("timeouts.command", Duration.ofHours(1))
        .put("timeouts.mail", Duration.ofHours(1))
        .put("timeouts.rcpt", Duration.ofHours(1))
        .put("timeouts.dataInitiation", Duration.ofHours(1))
        .put("timeouts.dataBlock", Duration.ofHours(1))
        .put("timeouts.dataTermination", Duration.ofHours(1))
        .put("maxParkedLifetime", Duration.ofDays(365))
        .put("delayWarningAfter", Duration.ofDays(365))
        .put("expiryCheckInterval", Duration.ofDays(1))
        // a client gives up on a reply after 5 minutes (RFC 5321 4.5.3.2.7): a longer pause only holds its connection
        .put("authFailureDelay", Duration.ofMinutes(1))
        .put("minAtrnInterval", Duration.ofDays(1))
        // what a crashed cluster node keeps a domain for
        .put("claimLease", Duration.ofHours(1))
        .put("authFailureWindow", Duration.ofDays(1))
        .put("etrnClientWindow", Duration.ofDays(1))
        .build();

    private final Map<Domain, AtrnDomain> domains;
    private final Map<String, String> secrets;
    private final String repositoryUrlPrefix;
    private final String bounceProcessor;
    private final boolean allowPlainAuthWithoutTls;
    private final int maxConcurrentSessions;
    private final int maxEtrnDeliveries;
    private final int maxParallelTransfers;
    private final Timeouts timeouts;
    private final Policies policies;
    private final AuthLimits authLimits;
    private final TlsRecordPerLine tlsRecordPerLine;
    private final EtrnPolicies etrnPolicies;

    /** {@code secrets} and the logins of {@code domains} in canonical form ({@link #canonicalLogin}). */
    public AtrnConfiguration(Map<Domain, AtrnDomain> domains, Map<String, String> secrets, String repositoryUrlPrefix,
                             String bounceProcessor, boolean allowPlainAuthWithoutTls, int maxConcurrentSessions,
                             int maxParallelTransfers,
                             Timeouts timeouts, Policies policies) {
        this(domains, secrets, repositoryUrlPrefix, bounceProcessor, allowPlainAuthWithoutTls, maxConcurrentSessions,
            maxParallelTransfers, timeouts, policies, TlsRecordPerLine.IMPLICIT_TLS, EtrnPolicies.DEFAULT, AuthLimits.DEFAULT);
    }

    public AtrnConfiguration(Map<Domain, AtrnDomain> domains, Map<String, String> secrets, String repositoryUrlPrefix,
                             String bounceProcessor, boolean allowPlainAuthWithoutTls, int maxConcurrentSessions,
                             int maxParallelTransfers,
                             Timeouts timeouts, Policies policies, TlsRecordPerLine tlsRecordPerLine,
                             EtrnPolicies etrnPolicies, AuthLimits authLimits) {
        this(domains, secrets, repositoryUrlPrefix, bounceProcessor, allowPlainAuthWithoutTls, maxConcurrentSessions,
            defaultEtrnDeliveries(maxConcurrentSessions), maxParallelTransfers, timeouts, policies, tlsRecordPerLine, etrnPolicies,
            authLimits);
    }

    public AtrnConfiguration(Map<Domain, AtrnDomain> domains, Map<String, String> secrets, String repositoryUrlPrefix,
                             String bounceProcessor, boolean allowPlainAuthWithoutTls, int maxConcurrentSessions,
                             int maxEtrnDeliveries, int maxParallelTransfers,
                             Timeouts timeouts, Policies policies, TlsRecordPerLine tlsRecordPerLine,
                             EtrnPolicies etrnPolicies, AuthLimits authLimits) {
        this.maxEtrnDeliveries = maxEtrnDeliveries;
        this.domains = ImmutableMap.copyOf(domains);
        this.secrets = ImmutableMap.copyOf(secrets);
        this.repositoryUrlPrefix = repositoryUrlPrefix;
        this.bounceProcessor = bounceProcessor;
        this.allowPlainAuthWithoutTls = allowPlainAuthWithoutTls;
        this.maxConcurrentSessions = maxConcurrentSessions;
        this.maxParallelTransfers = maxParallelTransfers;
        this.timeouts = timeouts;
        this.policies = policies;
        this.authLimits = authLimits;
        this.tlsRecordPerLine = tlsRecordPerLine;
        this.etrnPolicies = etrnPolicies;
    }

    public boolean isAtrnDomain(Domain domain) {
        return domains.containsKey(domain);
    }

    public Optional<AtrnDomain> domain(Domain domain) {
        return Optional.ofNullable(domains.get(domain));
    }

    public Set<Domain> domains() {
        return domains.keySet();
    }

    /** Domains the login (any spelling) may claim, in configuration order. */
    public List<Domain> domainsClaimableBy(String login) {
        Optional<String> canonical = canonicalLogin(login);
        return domains.values().stream()
            .filter(d -> canonical.map(d.logins()::contains).orElse(false))
            .map(AtrnDomain::domain)
            .collect(ImmutableList.toImmutableList());
    }

    public boolean mayClaim(String login, Domain domain) {
        Optional<String> canonical = canonicalLogin(login);
        return canonical.isPresent() && domain(domain).map(d -> d.logins().contains(canonical.get())).orElse(false);
    }

    public Optional<String> secretOf(String login) {
        return canonicalLogin(login).map(secrets::get);
    }

    /**
     * The one spelling of an ODMR login: James's own ({@code Username.of}, which lower-cases), so
     * the name AUTH puts on the session and the names of {@code atrn.xml} always compare equal.
     * Empty for what James cannot take as a user name.
     */
    public static Optional<String> canonicalLogin(String login) {
        if (login == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Username.of(login).asString());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public MailRepositoryUrl repositoryUrl(Domain domain) {
        return MailRepositoryUrl.from(repositoryUrlPrefix + domain.asString());
    }

    public String repositoryUrlPrefix() {
        return repositoryUrlPrefix;
    }

    public String bounceProcessor() {
        return bounceProcessor;
    }

    public boolean allowPlainAuthWithoutTls() {
        return allowPlainAuthWithoutTls;
    }

    public int maxConcurrentSessions() {
        return maxConcurrentSessions;
    }

    /**
     * How many ETRN run at once (each on a thread of its own, apart from the ATRN sessions'):
     * ETRN needs no AUTH, so strangers can start them, and each may wait minutes on a dead relay.
     */
    public int maxEtrnDeliveries() {
        return maxEtrnDeliveries;
    }

    /** A quarter of the ATRN sessions, at least one. */
    public static int defaultEtrnDeliveries(int maxConcurrentSessions) {
        return Math.max(1, maxConcurrentSessions / 4);
    }

    /** How many message transactions all drains together may run at once (sessions take turns). */
    public int maxParallelTransfers() {
        return maxParallelTransfers;
    }

    /** One core is left to inbound SMTP: the drains together never take the whole machine. */
    public static int defaultParallelTransfers() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    public Timeouts timeouts() {
        return timeouts;
    }

    public Policies policies() {
        return policies;
    }

    public AuthLimits authLimits() {
        return authLimits;
    }

    public TlsRecordPerLine tlsRecordPerLine() {
        return tlsRecordPerLine;
    }

    public EtrnPolicies etrnPolicies() {
        return etrnPolicies;
    }

    /**
     * Reads {@code atrn.xml}. Every problem is reported with the file, the key and the fix,
     * because it stops James at start and the operator reads it in the start-up log.
     */
    public static AtrnConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source)
            throws ConfigurationException {
        Problems problems = new Problems(source);
        rejectUnknownKeys(config, problems);

        Map<String, String> secrets = new LinkedHashMap<>();
        Map<String, String> spellings = new LinkedHashMap<>();
        for (HierarchicalConfiguration<ImmutableNode> login : config.configurationsAt("logins.login")) {
            String name = trimmed(login.getString("[@name]", ""));
            String secret = login.getString("[@secret]", "");
            Optional<String> canonical = canonicalLogin(name).filter(AtrnConfiguration::printable);
            if (name.isEmpty()) {
                problems.add("logins.login[@name]", "a <login> has no name", "give every <login> a name=\"...\" attribute");
            } else if (canonical.isEmpty()) {
                problems.add("logins.login[@name]", "login '" + name + "' is not a user name James accepts",
                    "use at most 255 printable characters, with at most one '@' followed by a domain name");
            } else if (secret.isEmpty()) {
                problems.add("logins.login[@secret]", "login '" + name + "' has no secret",
                    "add secret=\"...\" to <login name=\"" + name + "\"> (CRAM-MD5 needs the secret itself)");
            } else if (spellings.containsKey(canonical.get())) {
                String first = spellings.get(canonical.get());
                if (first.equals(name)) {
                    problems.add("logins.login[@name]", "login '" + name + "' is declared twice", "keep one <login name=\"" + name + "\">");
                } else {
                    problems.add("logins.login[@name]", "logins '" + first + "' and '" + name + "' differ only in case, and ODMR "
                        + "logins are compared as James compares user names (in lower case)", "keep one <login name=\""
                        + canonical.get() + "\">, or rename one of them (and the <login> of its domains)");
                }
            } else {
                spellings.put(canonical.get(), name);
                secrets.put(canonical.get(), secret);
            }
        }

        Map<Domain, AtrnDomain> domains = new LinkedHashMap<>();
        List<HierarchicalConfiguration<ImmutableNode>> domainNodes = config.configurationsAt("domains.domain");
        if (domainNodes.isEmpty()) {
            problems.add("domains.domain", "no ATRN domain is declared",
                "add <domains><domain name=\"customer.example\"><login>customer</login></domain></domains>");
        }
        for (HierarchicalConfiguration<ImmutableNode> node : domainNodes) {
            parseDomain(node, secrets, problems).ifPresent(d -> {
                if (domains.put(d.domain(), d) != null) {
                    problems.add("domains.domain[@name]", "domain '" + d.domain().asString() + "' is declared twice",
                        "merge the two <domain name=\"" + d.domain().asString() + "\"> entries");
                }
            });
        }

        String prefix = config.getString("repositoryUrlPrefix", DEFAULT_REPOSITORY_PREFIX).trim();
        if (!prefix.endsWith("/")) {
            prefix = prefix + "/";
        }
        if (!prefix.matches("^[a-z][a-z0-9+.-]*://[^\\s]+/$")) {
            problems.add("repositoryUrlPrefix", "'" + prefix + "' is not a mail repository URL",
                "use protocol://path/, for example " + DEFAULT_REPOSITORY_PREFIX);
        }

        Timeouts timeouts = new Timeouts(
            duration(config, "timeouts.greeting", Timeouts.RFC_5321.greeting(), problems),
            duration(config, "timeouts.command", Timeouts.RFC_5321.command(), problems),
            duration(config, "timeouts.mail", Timeouts.RFC_5321.mail(), problems),
            duration(config, "timeouts.rcpt", Timeouts.RFC_5321.rcpt(), problems),
            duration(config, "timeouts.dataInitiation", Timeouts.RFC_5321.dataInitiation(), problems),
            duration(config, "timeouts.dataBlock", Timeouts.RFC_5321.dataBlock(), problems),
            duration(config, "timeouts.dataTermination", Timeouts.RFC_5321.dataTermination(), problems));

        Policies defaults = Policies.DEFAULT;
        Policies policies = new Policies(
            duration(config, "maxParkedLifetime", defaults.maxParkedLifetime(), problems),
            optionalDuration(config, "delayWarningAfter", problems),
            config.getString("delayWarningProcessor", defaults.delayWarningProcessor()).trim(),
            duration(config, "expiryCheckInterval", defaults.expiryCheckInterval(), problems),
            durationOrZero(config, "authFailureDelay", defaults.authFailureDelay(), problems),
            optionalDuration(config, "minAtrnInterval", problems),
            duration(config, "claimLease", defaults.claimLease(), problems));

        AuthLimits authDefaults = AuthLimits.DEFAULT;
        AuthLimits authLimits = new AuthLimits(
            nonNegativeInt(config, "authFailuresPerAddress", authDefaults.failuresPerAddress(), problems),
            nonNegativeInt(config, "authFailuresPerLogin", authDefaults.failuresPerLogin(), problems),
            duration(config, "authFailureWindow", authDefaults.window(), problems));

        boolean plainInClear = bool(config, "allowPlainAuthWithoutTls", false, problems);
        int maxSessions = positiveInt(config, "maxConcurrentSessions", 64, problems);
        int maxEtrnDeliveries = positiveInt(config, "maxEtrnDeliveries", defaultEtrnDeliveries(maxSessions), problems);
        int maxTransfers = positiveInt(config, "maxParallelTransfers", defaultParallelTransfers(), problems);
        String bounceProcessor = config.getString("bounceProcessor", "bounces").trim();
        TlsRecordPerLine recordPerLine = tlsRecordPerLine(config, problems);

        EtrnPolicies etrnDefaults = EtrnPolicies.DEFAULT;
        EtrnPolicies etrnPolicies = new EtrnPolicies(
            positiveInt(config, "maxEtrnPerClient", etrnDefaults.maxEtrnPerClient(), problems),
            duration(config, "etrnClientWindow", etrnDefaults.etrnClientWindow(), problems),
            hostNames(config, "ownHostNames", problems));

        problems.throwIfAny();
        return new AtrnConfiguration(domains, secrets, prefix, bounceProcessor, plainInClear, maxSessions, maxEtrnDeliveries,
            maxTransfers, timeouts, policies, recordPerLine, etrnPolicies, authLimits);
    }

    private static Optional<AtrnDomain> parseDomain(HierarchicalConfiguration<ImmutableNode> node,
                                                    Map<String, String> secrets, Problems problems) {
        String rawName = trimmed(node.getString("[@name]", ""));
        Optional<Domain> domain = normalizeDomain(rawName);
        if (domain.isEmpty()) {
            problems.add("domains.domain[@name]", "'" + rawName + "' is not a domain name",
                "use a fully qualified host name such as customer.example");
            return Optional.empty();
        }
        String name = domain.get().asString();
        Set<String> logins = new LinkedHashSet<>();
        for (Object raw : node.getList("login")) {
            for (String login : Splitter.on(',').trimResults().omitEmptyStrings().split(String.valueOf(raw))) {
                Optional<String> canonical = canonicalLogin(login).filter(secrets::containsKey);
                if (canonical.isEmpty()) {
                    problems.add("domains.domain.login", "domain '" + name + "' names login '" + login
                        + "' which has no <login> entry", "add <logins><login name=\"" + login + "\" secret=\"...\"/></logins>");
                }
                logins.add(canonical.orElse(login));
            }
        }
        if (logins.isEmpty()) {
            problems.add("domains.domain.login", "domain '" + name + "' has no login allowed to claim it",
                "add <login>LOGIN</login> inside <domain name=\"" + name + "\">");
        }
        Optional<Set<MailAddress>> recipients = Optional.empty();
        if (node.containsKey("recipients")) {
            Set<MailAddress> valid = new LinkedHashSet<>();
            for (Object raw : node.getList("recipients")) {
                for (String address : Splitter.on(CharMatcherHolder.SEPARATORS).trimResults().omitEmptyStrings().split(String.valueOf(raw))) {
                    try {
                        MailAddress parsed = new MailAddress(address.contains("@") ? address : address + "@" + name);
                        if (!parsed.getDomain().equals(domain.get())) {
                            problems.add("domains.domain.recipients", "'" + address + "' is not in domain '" + name + "'",
                                "list only addresses of " + name + " under its <domain>");
                        }
                        valid.add(parsed);
                    } catch (Exception e) {
                        problems.add("domains.domain.recipients", "'" + address + "' is not a mail address",
                            "write recipients as local parts or full addresses separated by commas");
                    }
                }
            }
            recipients = Optional.of(ImmutableSet.copyOf(valid));
        }
        Optional<HostAndPort> etrnRelay = Optional.empty();
        String relay = trimmed(node.getString("etrnRelay", ""));
        if (!relay.isEmpty()) {
            try {
                HostAndPort parsed = HostAndPort.fromString(relay).withDefaultPort(25);
                if (parsed.getHost().isEmpty() || parsed.getPort() < 1) {
                    throw new IllegalArgumentException("no host");
                }
                etrnRelay = Optional.of(parsed);
            } catch (IllegalArgumentException e) {
                problems.add("domains.domain.etrnRelay", "'" + relay + "' of domain '" + name + "' is not a host or host:port",
                    "write <etrnRelay>mail.customer.example:25</etrnRelay> or leave it out to use the domain's MX hosts");
            }
        }
        return Optional.of(new AtrnDomain(domain.get(), ImmutableSet.copyOf(logins), recipients, etrnRelay));
    }

    /**
     * The one place that decides how a domain is spelled: lower case, no trailing dot, LDH
     * labels as RFC 2645's ABNF requires (at least two labels, the last one not all digits).
     * Unicode names are refused, not converted: the ABNF allows only their A-label (punycode).
     */
    public static Optional<Domain> normalizeDomain(String raw) {
        if (raw == null) {
            return Optional.empty();
        }
        String candidate = raw.trim().toLowerCase(Locale.ROOT);
        if (candidate.endsWith(".")) {
            candidate = candidate.substring(0, candidate.length() - 1);
        }
        if (!LDH_DOMAIN.matcher(candidate).matches()) {
            return Optional.empty();
        }
        // An all-numeric last label is an IP address written without brackets, not a host name.
        if (candidate.substring(candidate.lastIndexOf('.') + 1).chars().allMatch(Character::isDigit)) {
            return Optional.empty();
        }
        return Optional.of(Domain.of(candidate));
    }

    private static void rejectUnknownKeys(HierarchicalConfiguration<ImmutableNode> config, Problems problems) {
        Iterator<String> keys = config.getKeys();
        while (keys.hasNext()) {
            String key = keys.next();
            if (!KNOWN_KEYS.contains(key)) {
                problems.add(key, "unknown key", "remove it or correct its spelling; known keys: "
                    + KNOWN_KEYS.stream().sorted().collect(Collectors.joining(", ")));
            }
        }
    }

    private static Duration duration(HierarchicalConfiguration<ImmutableNode> config, String key, Duration fallback,
                                     Problems problems) {
        Duration longest = LONGEST.get(key);
        if (longest == null) {
            throw new IllegalStateException("no longest value for duration key " + key);
        }
        String raw = config.getString(key, null);
        if (raw == null) {
            return fallback;
        }
        Duration parsed;
        try {
            parsed = DurationParser.parse(raw.trim(), java.time.temporal.ChronoUnit.SECONDS);
            if (parsed.isZero() || parsed.isNegative()) {
                throw new NumberFormatException("not positive");
            }
        } catch (RuntimeException e) {
            problems.add(key, "'" + raw + "' is not a duration", "write a positive duration such as 300s or 5m");
            return fallback;
        }
        if (parsed.compareTo(longest) > 0) {
            problems.add(key, "'" + raw + "' is longer than " + shortest(longest) + ", the most this key allows",
                "write a positive duration of at most " + shortest(longest));
            return fallback;
        }
        return parsed;
    }

    /** 1d, 1h, 1m or 30s, as an operator writes it. */
    private static String shortest(Duration duration) {
        long seconds = duration.getSeconds();
        if (seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3_600 == 0) {
            return seconds / 3_600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }

    private static Optional<Duration> optionalDuration(HierarchicalConfiguration<ImmutableNode> config, String key,
                                                       Problems problems) {
        return config.getString(key, null) == null ? Optional.empty() : Optional.of(duration(config, key, Duration.ZERO, problems));
    }

    private static Duration durationOrZero(HierarchicalConfiguration<ImmutableNode> config, String key, Duration fallback,
                                           Problems problems) {
        String raw = config.getString(key, null);
        if (raw != null && raw.trim().matches("0+\\s*[a-z]*")) {
            return Duration.ZERO;
        }
        return duration(config, key, fallback, problems);
    }

    private static boolean bool(HierarchicalConfiguration<ImmutableNode> config, String key, boolean fallback,
                                Problems problems) {
        String raw = config.getString(key, null);
        if (raw == null) {
            return fallback;
        }
        String value = raw.trim().toLowerCase(Locale.ROOT);
        if (!value.equals("true") && !value.equals("false")) {
            problems.add(key, "'" + raw + "' is not a boolean", "write true or false");
            return fallback;
        }
        return Boolean.parseBoolean(value);
    }

    private static TlsRecordPerLine tlsRecordPerLine(HierarchicalConfiguration<ImmutableNode> config, Problems problems) {
        String raw = config.getString("tlsRecordPerLine", null);
        if (raw == null) {
            return TlsRecordPerLine.IMPLICIT_TLS;
        }
        for (TlsRecordPerLine value : TlsRecordPerLine.values()) {
            if (value.configValue().equalsIgnoreCase(raw.trim())) {
                return value;
            }
        }
        problems.add("tlsRecordPerLine", "'" + raw + "' is not one of implicitTls, allTls, never",
            "write implicitTls (the default: fetchmail's ssl option needs it), allTls or never");
        return TlsRecordPerLine.IMPLICIT_TLS;
    }

    private static int positiveInt(HierarchicalConfiguration<ImmutableNode> config, String key, int fallback,
                                   Problems problems) {
        String raw = config.getString(key, null);
        if (raw == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(key, "'" + raw + "' is not a positive integer", "write a number such as " + fallback);
        return fallback;
    }

    private static int nonNegativeInt(HierarchicalConfiguration<ImmutableNode> config, String key, int fallback,
                                      Problems problems) {
        String raw = config.getString(key, null);
        if (raw == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(key, "'" + raw + "' is not a number of failures", "write a number such as " + fallback + ", or 0 for no limit");
        return fallback;
    }

    /** A login is written into log lines: no control or formatting characters (a CR would start a new line). */
    private static boolean printable(String login) {
        return login.codePoints().noneMatch(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
            || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR);
    }

    /** Host names as a peer writes them after 220 or 250 (one label is allowed: "localhost", a short node name). */
    private static Set<String> hostNames(HierarchicalConfiguration<ImmutableNode> config, String key, Problems problems) {
        Set<String> names = new LinkedHashSet<>();
        for (Object raw : config.getList(key, List.of())) {
            for (String name : Splitter.on(CharMatcherHolder.SEPARATORS).trimResults().omitEmptyStrings().split(String.valueOf(raw))) {
                String candidate = name.toLowerCase(Locale.ROOT);
                if (candidate.endsWith(".")) {
                    candidate = candidate.substring(0, candidate.length() - 1);
                }
                if (HOST_NAME.matcher(candidate).matches()) {
                    names.add(candidate);
                } else {
                    problems.add(key, "'" + name + "' is not a host name",
                        "list the names other nodes of this cluster answer EHLO with, such as mx2.provider.example, separated by commas");
                }
            }
        }
        return names;
    }

    private static String trimmed(String value) {
        return value == null ? "" : value.trim();
    }

    private static final class CharMatcherHolder {
        static final com.google.common.base.CharMatcher SEPARATORS = com.google.common.base.CharMatcher.anyOf(", \t\r\n");
    }

    private static final class Problems {
        private final String source;
        private final List<String> messages = new ArrayList<>();

        Problems(String source) {
            this.source = source;
        }

        void add(String key, String what, String fix) {
            messages.add(source + ": key '" + key + "': " + what + ". Fix: " + fix + ".");
        }

        void throwIfAny() throws ConfigurationException {
            if (!messages.isEmpty()) {
                throw new ConfigurationException("Invalid ATRN configuration:\n  " + String.join("\n  ", messages));
            }
        }
    }
}
