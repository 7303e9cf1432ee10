package dev.jamesatrn.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.util.DurationParser;

import com.google.common.base.Splitter;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.net.HostAndPort;

/**
 * Reads and checks {@code conf/atrn.xml}: every key known, every value in range, each problem
 * reported with the file, the key and the fix, all of them at once, before James starts.
 */
final class AtrnConfigurationParser {
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

    private AtrnConfigurationParser() {
    }

    /**
     * Reads {@code atrn.xml}. Every problem is reported with the file, the key and the fix,
     * because it stops James at start and the operator reads it in the start-up log.
     */
    static AtrnConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source)
            throws ConfigurationException {
        Problems problems = new Problems(source);
        rejectUnknownKeys(config, problems);

        Map<String, String> secrets = new LinkedHashMap<>();
        Map<String, String> spellings = new LinkedHashMap<>();
        for (HierarchicalConfiguration<ImmutableNode> login : config.configurationsAt("logins.login")) {
            String name = trimmed(login.getString("[@name]", ""));
            String secret = login.getString("[@secret]", "");
            Optional<String> canonical = AtrnConfiguration.canonicalLogin(name).filter(AtrnConfigurationParser::printable);
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
        int maxEtrnDeliveries = positiveInt(config, "maxEtrnDeliveries", AtrnConfiguration.defaultEtrnDeliveries(maxSessions), problems);
        int maxTransfers = positiveInt(config, "maxParallelTransfers", AtrnConfiguration.defaultParallelTransfers(), problems);
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
        return atLeast(config, key, fallback, 1, "a positive integer", "write a number such as " + fallback, problems);
    }

    private static int nonNegativeInt(HierarchicalConfiguration<ImmutableNode> config, String key, int fallback,
                                      Problems problems) {
        return atLeast(config, key, fallback, 0, "a number of failures",
            "write a number such as " + fallback + ", or 0 for no limit", problems);
    }

    private static int atLeast(HierarchicalConfiguration<ImmutableNode> config, String key, int fallback, int minimum,
                               String what, String fix, Problems problems) {
        String raw = config.getString(key, null);
        if (raw == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            if (value >= minimum) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(key, "'" + raw + "' is not " + what, fix);
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
