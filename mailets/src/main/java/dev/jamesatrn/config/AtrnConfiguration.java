package dev.jamesatrn.config;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.core.Domain;
import org.apache.james.core.Username;
import org.apache.james.mailrepository.api.MailRepositoryUrl;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;

/**
 * Everything an operator decides about ATRN, read from one file ({@code conf/atrn.xml}).
 * The only mandatory part is the domain -> logins map (Postfix's {@code atrn_domain_login_maps}
 * in the seed design); everything else has a default that should rarely need changing.
 */
public final class AtrnConfiguration {
    public static final String FILE_NAME = "atrn.xml";
    public static final String DEFAULT_REPOSITORY_PREFIX = "file://var/mail/atrn/";

    private static final Pattern LDH_DOMAIN = Pattern.compile(
        "^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$");

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
     * Reads {@code atrn.xml} ({@link AtrnConfigurationParser}). Every problem is reported with the
     * file, the key and the fix, because it stops James at start and the operator reads it in the
     * start-up log.
     */
    public static AtrnConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source)
            throws ConfigurationException {
        return AtrnConfigurationParser.parse(config, source);
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
}
