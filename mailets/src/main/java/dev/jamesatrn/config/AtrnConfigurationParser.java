package dev.jamesatrn.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;

import com.google.common.base.Splitter;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.net.HostAndPort;

/**
 * Reads and checks {@code conf/atrn.xml}: every key known, every value in range, each problem
 * reported with the file, the key and the fix, all of them at once, before James starts.
 */
final class AtrnConfigurationParser {
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

    private AtrnConfigurationParser() {
    }

    /**
     * Reads {@code atrn.xml}. Every problem is reported with the file, the key and the fix,
     * because it stops James at start and the operator reads it in the start-up log.
     */
    static AtrnConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source)
            throws ConfigurationException {
        ConfigProblems problems = new ConfigProblems(source, "Invalid ATRN configuration");
        SettingReader settings = new SettingReader(config, problems);
        settings.rejectUnknownKeys(KNOWN_KEYS);

        Map<String, String> secrets = new LinkedHashMap<>();
        Map<String, String> spellings = new LinkedHashMap<>();
        for (HierarchicalConfiguration<ImmutableNode> login : config.configurationsAt("logins.login")) {
            String name = trimmed(login.getString("[@name]", ""));
            String secret = login.getString("[@secret]", "");
            Optional<String> canonical = AtrnConfiguration.canonicalLogin(name).filter(SettingReader::printable);
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

        String prefix = config.getString("repositoryUrlPrefix", AtrnConfiguration.DEFAULT_REPOSITORY_PREFIX).trim();
        if (!prefix.endsWith("/")) {
            prefix = prefix + "/";
        }
        if (!prefix.matches("^[a-z][a-z0-9+.-]*://[^\\s]+/$")) {
            problems.add("repositoryUrlPrefix", "'" + prefix + "' is not a mail repository URL",
                "use protocol://path/, for example " + AtrnConfiguration.DEFAULT_REPOSITORY_PREFIX);
        }

        Timeouts timeouts = new Timeouts(
            duration(settings, "timeouts.greeting", Timeouts.RFC_5321.greeting()),
            duration(settings, "timeouts.command", Timeouts.RFC_5321.command()),
            duration(settings, "timeouts.mail", Timeouts.RFC_5321.mail()),
            duration(settings, "timeouts.rcpt", Timeouts.RFC_5321.rcpt()),
            duration(settings, "timeouts.dataInitiation", Timeouts.RFC_5321.dataInitiation()),
            duration(settings, "timeouts.dataBlock", Timeouts.RFC_5321.dataBlock()),
            duration(settings, "timeouts.dataTermination", Timeouts.RFC_5321.dataTermination()));

        Policies defaults = Policies.DEFAULT;
        Policies policies = new Policies(
            duration(settings, "maxParkedLifetime", defaults.maxParkedLifetime()),
            optionalDuration(settings, "delayWarningAfter"),
            config.getString("delayWarningProcessor", defaults.delayWarningProcessor()).trim(),
            duration(settings, "expiryCheckInterval", defaults.expiryCheckInterval()),
            durationOrZero(settings, "authFailureDelay", defaults.authFailureDelay()),
            optionalDuration(settings, "minAtrnInterval"),
            duration(settings, "claimLease", defaults.claimLease()));

        AuthLimits authDefaults = AuthLimits.DEFAULT;
        AuthLimits authLimits = new AuthLimits(
            nonNegativeInt(settings, "authFailuresPerAddress", authDefaults.failuresPerAddress()),
            nonNegativeInt(settings, "authFailuresPerLogin", authDefaults.failuresPerLogin()),
            duration(settings, "authFailureWindow", authDefaults.window()));

        boolean plainInClear = settings.bool("allowPlainAuthWithoutTls", false);
        int maxSessions = positiveInt(settings, "maxConcurrentSessions", 64);
        int maxEtrnDeliveries = positiveInt(settings, "maxEtrnDeliveries", AtrnConfiguration.defaultEtrnDeliveries(maxSessions));
        int maxTransfers = positiveInt(settings, "maxParallelTransfers", AtrnConfiguration.defaultParallelTransfers());
        String bounceProcessor = config.getString("bounceProcessor", "bounces").trim();
        TlsRecordPerLine recordPerLine = tlsRecordPerLine(settings);

        EtrnPolicies etrnDefaults = EtrnPolicies.DEFAULT;
        EtrnPolicies etrnPolicies = new EtrnPolicies(
            positiveInt(settings, "maxEtrnPerClient", etrnDefaults.maxEtrnPerClient()),
            duration(settings, "etrnClientWindow", etrnDefaults.etrnClientWindow()),
            hostNames(settings, "ownHostNames"));

        problems.throwIfAny();
        return new AtrnConfiguration(domains, secrets, prefix, bounceProcessor, plainInClear, maxSessions, maxEtrnDeliveries,
            maxTransfers, timeouts, policies, recordPerLine, etrnPolicies, authLimits);
    }

    private static Optional<AtrnDomain> parseDomain(HierarchicalConfiguration<ImmutableNode> node,
                                                    Map<String, String> secrets, ConfigProblems problems) {
        String rawName = trimmed(node.getString("[@name]", ""));
        Optional<Domain> domain = AtrnConfiguration.normalizeDomain(rawName);
        if (domain.isEmpty()) {
            problems.add("domains.domain[@name]", "'" + rawName + "' is not a domain name",
                "use a fully qualified host name such as customer.example");
            return Optional.empty();
        }
        String name = domain.get().asString();
        Set<String> logins = new LinkedHashSet<>();
        for (Object raw : node.getList("login")) {
            for (String login : Splitter.on(',').trimResults().omitEmptyStrings().split(String.valueOf(raw))) {
                Optional<String> canonical = AtrnConfiguration.canonicalLogin(login).filter(secrets::containsKey);
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
            for (String address : new SettingReader(node, problems).items("recipients")) {
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


    private static Duration duration(SettingReader settings, String key, Duration fallback) {
        Duration longest = LONGEST.get(key);
        if (longest == null) {
            throw new IllegalStateException("no longest value for duration key " + key);
        }
        return settings.duration(key, DurationRange.positiveUpTo(fallback, longest));
    }

    private static Optional<Duration> optionalDuration(SettingReader settings, String key) {
        return settings.raw(key).isEmpty() ? Optional.empty() : Optional.of(duration(settings, key, Duration.ZERO));
    }

    private static Duration durationOrZero(SettingReader settings, String key, Duration fallback) {
        if (settings.raw(key).filter(raw -> raw.trim().matches("0+\\s*[a-z]*")).isPresent()) {
            return Duration.ZERO;
        }
        return duration(settings, key, fallback);
    }

    private static TlsRecordPerLine tlsRecordPerLine(SettingReader settings) {
        String raw = settings.raw("tlsRecordPerLine").orElse(null);
        if (raw == null) {
            return TlsRecordPerLine.IMPLICIT_TLS;
        }
        for (TlsRecordPerLine value : TlsRecordPerLine.values()) {
            if (value.configValue().equalsIgnoreCase(raw.trim())) {
                return value;
            }
        }
        settings.badValue("tlsRecordPerLine", raw, "is not one of implicitTls, allTls, never",
            "write implicitTls (the default: fetchmail's ssl option needs it), allTls or never");
        return TlsRecordPerLine.IMPLICIT_TLS;
    }

    private static int positiveInt(SettingReader settings, String key, int fallback) {
        return settings.integer(key, fallback, 1, Integer.MAX_VALUE, "a positive integer", "write a number such as " + fallback);
    }

    private static int nonNegativeInt(SettingReader settings, String key, int fallback) {
        return settings.integer(key, fallback, 0, Integer.MAX_VALUE, "a number of failures",
            "write a number such as " + fallback + ", or 0 for no limit");
    }

    /** Host names as a peer writes them after 220 or 250. */
    private static Set<String> hostNames(SettingReader settings, String key) {
        Set<String> names = new LinkedHashSet<>();
        for (String name : settings.items(key)) {
            String candidate = name.toLowerCase(Locale.ROOT);
            if (candidate.endsWith(".")) {
                candidate = candidate.substring(0, candidate.length() - 1);
            }
            if (SettingReader.isHostName(candidate)) {
                names.add(candidate);
            } else {
                settings.badValue(key, name, "is not a host name",
                    "list the names other nodes of this cluster answer EHLO with, such as mx2.provider.example, separated by commas");
            }
        }
        return names;
    }

    private static String trimmed(String value) {
        return value == null ? "" : value.trim();
    }
}
