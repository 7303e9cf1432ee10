package dev.jamesatrn.customer;

import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_CLAIM_LEASE;
import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_COMMAND_TIMEOUT;
import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_INBOUND_SERVER;
import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_INITIAL_BACKOFF;
import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_MAX_BACKOFF;
import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_MAX_PARALLEL_POLLS;
import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_MAX_RECEIVE_TIME;
import static dev.jamesatrn.customer.CustomerConfiguration.DEFAULT_POLL_INTERVAL;
import static dev.jamesatrn.customer.CustomerConfiguration.IMPLICIT_TLS_PORT;
import static dev.jamesatrn.customer.CustomerConfiguration.MAX_COMMAND_LINE;
import static dev.jamesatrn.customer.CustomerConfiguration.MINIMUM_ATRN_REPLY_TIMEOUT;
import static dev.jamesatrn.customer.CustomerConfiguration.ODMR_PORT;

import java.io.IOException;
import java.io.InputStream;
import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.base.CharMatcher;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.net.InetAddresses;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.config.ConfigProblems;
import dev.jamesatrn.config.DurationRange;
import dev.jamesatrn.config.SettingReader;
import dev.jamesatrn.customer.CustomerConfiguration.Surroundings;

/**
 * Reads and checks {@code conf/atrn-customer.xml} into a {@link CustomerConfiguration}: every key
 * known, every value in range, files and environment variables it names readable, each problem
 * with file, key and fix, all of them at once.
 */
final class CustomerConfigurationParser {
    /** Under the value class's name: the one operators know from the start-up lines. */
    private static final Logger LOGGER = LoggerFactory.getLogger(CustomerConfiguration.class);
    private static final Map<String, DurationRange> DURATIONS = ImmutableMap.<String, DurationRange>builder()
        .put("claimLease", DurationRange.between(DEFAULT_CLAIM_LEASE, Duration.ofSeconds(10), Duration.ofHours(1),
            "what a crashed node keeps a provider's poll for"))
        .put("provider.pollInterval", DurationRange.between(DEFAULT_POLL_INTERVAL, Duration.ofMinutes(1), Duration.ofDays(1),
            "more often than once a minute only loads the provider"))
        .put("provider.initialBackoff", DurationRange.between(DEFAULT_INITIAL_BACKOFF, Duration.ofSeconds(10), Duration.ofDays(1),
            "the wait after a first failed poll"))
        .put("provider.maxBackoff", DurationRange.between(DEFAULT_MAX_BACKOFF, Duration.ofSeconds(10), Duration.ofDays(1),
            "the longest wait after failed polls"))
        .put("provider.commandTimeout", DurationRange.between(DEFAULT_COMMAND_TIMEOUT, Duration.ofMinutes(1), Duration.ofHours(1),
            "RFC 5321 section 4.5.3.2 asks for 5 minutes"))
        .put("provider.atrnReplyTimeout", DurationRange.between(MINIMUM_ATRN_REPLY_TIMEOUT, MINIMUM_ATRN_REPLY_TIMEOUT,
            Duration.ofHours(1), "RFC 2645 section 5.2.1 requires at least 10 minutes"))
        .put("provider.maxReceiveTime", DurationRange.between(DEFAULT_MAX_RECEIVE_TIME, Duration.ofMinutes(1), Duration.ofDays(1),
            "the longest a provider may keep one poll's reversed session; the rest of its mail waits for the next poll"))
        .build();

    // Keys as commons-configuration reports them (no indexes); anything else is a typo.
    private static final Set<String> KNOWN_KEYS = ImmutableSet.of(
        "inboundServer", "maxParallelPolls", "claimLease",
        "provider[@name]", "provider.host", "provider.port", "provider.tls", "provider.allowPlaintext",
        "provider.verifyCertificate", "provider.trustStore", "provider.trustStorePassword", "provider.trustStoreType",
        "provider.login", "provider.secret", "provider.secretFile", "provider.secretEnv", "provider.mechanism",
        "provider.domains", "provider.pollInterval", "provider.initialBackoff", "provider.maxBackoff",
        "provider.commandTimeout", "provider.atrnReplyTimeout", "provider.maxReceiveTime");

    /**
     * A WebAdmin path segment, a metric and log label, and a label of a claim key ({@link Domain}):
     * letters, digits and '-' (not first or last). No '_': metric names turn '-' into '_', so two
     * names could otherwise share a metric.
     */
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$");

    private CustomerConfigurationParser() {
    }

    static CustomerConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source,
                                       Surroundings surroundings) throws ConfigurationException {
        ConfigProblems problems = new ConfigProblems(source, "Invalid ATRN customer configuration");
        SettingReader settings = new SettingReader(config, problems);
        settings.rejectUnknownKeys(KNOWN_KEYS);

        String inboundServer = config.getString("inboundServer", DEFAULT_INBOUND_SERVER).trim();
        if (inboundServer.isEmpty()) {
            problems.add("inboundServer", "it is empty", "write the <jmxName> of the <smtpserver> of conf/smtpserver.xml that "
                + "receives mail from the Internet, e.g. " + DEFAULT_INBOUND_SERVER);
        }
        int maxParallelPolls = boundedInt(settings, "maxParallelPolls", DEFAULT_MAX_PARALLEL_POLLS, 1, 64);
        Duration claimLease = duration(settings, "claimLease");

        List<Provider> providers = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (HierarchicalConfiguration<ImmutableNode> node : config.configurationsAt("provider")) {
            parseProvider(settings, node, surroundings, problems).ifPresent(provider -> {
                if (!names.add(provider.name().toLowerCase(Locale.ROOT))) {
                    problems.add("provider[@name]", "provider '" + provider.name() + "' is declared twice (names are compared "
                        + "without case: they are WebAdmin paths and claim keys)", "give every <provider> a name of its own");
                } else {
                    providers.add(provider);
                }
            });
        }
        problems.throwIfAny();
        return new CustomerConfiguration(providers, inboundServer, maxParallelPolls, claimLease);
    }

    private static Optional<Provider> parseProvider(SettingReader settings, HierarchicalConfiguration<ImmutableNode> node,
                                                    Surroundings surroundings, ConfigProblems problems) {
        int before = problems.count();
        String name = node.getString("[@name]", "").trim();
        if (name.isEmpty()) {
            problems.add("provider[@name]", "a <provider> has no name", "give every <provider> a name=\"...\" attribute, "
                + "such as name=\"main\"");
        } else if (!NAME.matcher(name).matches()) {
            problems.add("provider[@name]", "'" + name + "' is not a provider name",
                "use at most 63 letters, digits and '-', starting and ending with a letter or digit");
        }
        String label = name.isEmpty() ? "a <provider> without a name" : "provider '" + name + "'";
        SettingReader provider = settings.within(node, "provider.", label + ": ");

        String host = node.getString("host", "").trim().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            problems.add("provider.host", label + " has no host", "add <host>odmr.provider.example</host>");
        } else if (!SettingReader.isHostName(host) && !InetAddresses.isInetAddress(host)) {
            problems.add("provider.host", label + ": '" + host + "' is neither a host name nor an IP address",
                "write the provider's ODMR host, such as odmr.provider.example");
        }

        Provider.Tls tls = tls(node, label, problems);
        boolean allowPlaintext = provider.bool("allowPlaintext", false);
        if (tls == Provider.Tls.NONE && !allowPlaintext) {
            problems.add("provider.tls", label + ": 'none' sends the AUTH exchange and every message in clear",
                "use <tls>starttls</tls> or <tls>implicit</tls>; only on a network you trust, keep none and add "
                    + "<allowPlaintext>true</allowPlaintext>");
        }
        int port = boundedInt(provider, "port", tls == Provider.Tls.IMPLICIT ? IMPLICIT_TLS_PORT : ODMR_PORT, 1, 65535);

        boolean verifyCertificate = provider.bool("verifyCertificate", true);
        Provider.Trust trust = trust(node, tls, verifyCertificate, label, surroundings, problems);

        String login = node.getString("login", "").trim();
        if (login.isEmpty()) {
            problems.add("provider.login", label + " has no login", "add <login>LOGIN</login>, the login the provider gave you");
        } else if (!SettingReader.printable(login)) {
            problems.add("provider.login", label + ": the login has control characters", "write it on one line, printable characters only");
        }
        Optional<String> secret = secret(node, label, surroundings, problems);

        Provider.Mechanism mechanism = mechanism(node, label, problems);
        if (mechanism != Provider.Mechanism.CRAM_MD5 && tls == Provider.Tls.NONE) {
            problems.add("provider.mechanism", label + ": " + mechanism.saslName() + " sends the secret itself, and tls is none",
                "use <mechanism>CRAM-MD5</mechanism>, or <tls>starttls</tls> / <tls>implicit</tls>");
        } else if (mechanism != Provider.Mechanism.CRAM_MD5 && !verifyCertificate) {
            // TLS that accepts any certificate hides the secret from no one in the middle.
            problems.add("provider.mechanism", label + ": " + mechanism.saslName() + " sends the secret itself, and "
                + "verifyCertificate is false: anyone in the middle with a certificate of his own would read it",
                "use <mechanism>CRAM-MD5</mechanism>, or check the certificate (remove <verifyCertificate>false</verifyCertificate>, "
                    + "add the provider's CA with <trustStore>)");
        }

        List<String> domains = domains(provider, label, problems);

        Duration pollInterval = duration(provider, "pollInterval");
        Duration initialBackoff = duration(provider, "initialBackoff");
        Duration maxBackoff = duration(provider, "maxBackoff");
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            problems.add("provider.maxBackoff", label + ": maxBackoff " + SettingReader.shortest(maxBackoff)
                + " is shorter than initialBackoff " + SettingReader.shortest(initialBackoff), "make maxBackoff at least initialBackoff");
        }
        Duration commandTimeout = duration(provider, "commandTimeout");
        Duration atrnReplyTimeout = duration(provider, "atrnReplyTimeout");
        Duration maxReceiveTime = duration(provider, "maxReceiveTime");

        if (problems.count() > before) {
            return Optional.empty();
        }
        return Optional.of(new Provider(name, host, port, tls, verifyCertificate, trust, login, secret.orElseThrow(), mechanism,
            domains, pollInterval, initialBackoff, maxBackoff, commandTimeout, atrnReplyTimeout, maxReceiveTime));
    }

    private static Provider.Tls tls(HierarchicalConfiguration<ImmutableNode> node, String label, ConfigProblems problems) {
        String raw = node.getString("tls", "starttls").trim();
        for (Provider.Tls tls : Provider.Tls.values()) {
            if (tls.name().equalsIgnoreCase(raw)) {
                return tls;
            }
        }
        problems.add("provider.tls", label + ": '" + raw + "' is not one of implicit, starttls, none",
            "write starttls (the default: RFC 2645's port " + ODMR_PORT + " with STARTTLS), implicit (TLS from the first byte) or none");
        return Provider.Tls.STARTTLS;
    }

    private static Provider.Mechanism mechanism(HierarchicalConfiguration<ImmutableNode> node, String label, ConfigProblems problems) {
        String raw = node.getString("mechanism", Provider.Mechanism.CRAM_MD5.saslName()).trim();
        for (Provider.Mechanism mechanism : Provider.Mechanism.values()) {
            if (mechanism.saslName().equalsIgnoreCase(raw)) {
                return mechanism;
            }
        }
        problems.add("provider.mechanism", label + ": '" + raw + "' is not one of CRAM-MD5, PLAIN, LOGIN",
            "write CRAM-MD5 (the default; RFC 2645 requires providers to offer it), or PLAIN or LOGIN with TLS");
        return Provider.Mechanism.CRAM_MD5;
    }

    private static Provider.Trust trust(HierarchicalConfiguration<ImmutableNode> node, Provider.Tls tls, boolean verify,
                                        String label, Surroundings surroundings, ConfigProblems problems) {
        String path = node.getString("trustStore", "").trim();
        Optional<String> password = Optional.ofNullable(node.getString("trustStorePassword", null));
        String type = node.getString("trustStoreType", Provider.Trust.JVM_DEFAULT.trustStoreType()).trim();
        if (path.isEmpty()) {
            if (password.isPresent() || node.containsKey("trustStoreType")) {
                problems.add("provider.trustStore", label + " has trustStorePassword or trustStoreType but no trustStore",
                    "add <trustStore>file://conf/provider-trust.p12</trustStore>, or remove the other two");
            }
            return Provider.Trust.JVM_DEFAULT;
        }
        if (tls == Provider.Tls.NONE) {
            problems.add("provider.trustStore", label + " has a trustStore but tls none: nothing would be checked against it",
                "remove <trustStore>, or use <tls>starttls</tls> or <tls>implicit</tls>");
            return Provider.Trust.JVM_DEFAULT;
        }
        if (!verify) {
            problems.add("provider.trustStore", label + " has a trustStore but verifyCertificate false: it would not be used",
                "remove <verifyCertificate>false</verifyCertificate> (certificates are then checked against the trustStore), "
                    + "or remove <trustStore>");
            return Provider.Trust.JVM_DEFAULT;
        }
        Path file;
        try {
            file = surroundings.resolve(path);
        } catch (IOException | InvalidPathException e) {
            problems.add("provider.trustStore", label + ": '" + path + "' cannot be resolved (" + e.getMessage() + ")",
                "write an absolute path or a James path such as file://conf/provider-trust.p12");
            return Provider.Trust.JVM_DEFAULT;
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            problems.add("provider.trustStore", label + ": trust store " + file + " does not exist or cannot be read",
                "create it (keytool -importcert -keystore " + file + " -storetype PKCS12 -file provider.pem -alias provider) "
                    + "or correct the path");
            return Provider.Trust.JVM_DEFAULT;
        }
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password.map(String::toCharArray).orElse(null));
            if (store.size() == 0) {
                problems.add("provider.trustStore", label + ": trust store " + file + " holds no certificate",
                    "import the provider's certificate or its CA (keytool -importcert)");
            }
        } catch (KeyStoreException e) {
            problems.add("provider.trustStoreType", label + ": '" + type + "' is not a key store type this JVM knows",
                "write PKCS12 (the default) or JKS");
        } catch (IOException | java.security.GeneralSecurityException e) {
            problems.add("provider.trustStore", label + ": trust store " + file + " cannot be read as " + type + " ("
                + e.getMessage() + ")", "check <trustStorePassword> and <trustStoreType>");
        }
        return new Provider.Trust(Optional.of(file), password, type);
    }

    /** Exactly one of secret, secretFile (first line) and secretEnv, so the secret can stay out of this file. */
    private static Optional<String> secret(HierarchicalConfiguration<ImmutableNode> node, String label, Surroundings surroundings,
                                           ConfigProblems problems) {
        List<String> given = new ArrayList<>();
        for (String key : List.of("secret", "secretFile", "secretEnv")) {
            if (node.containsKey(key)) {
                given.add(key);
            }
        }
        if (given.isEmpty()) {
            problems.add("provider.secret", label + " has no secret", "add <secret>...</secret>, or keep it out of this file "
                + "with <secretFile>/path/to/file</secretFile> or <secretEnv>VARIABLE</secretEnv>");
            return Optional.empty();
        }
        if (given.size() > 1) {
            problems.add("provider." + given.get(1), label + " has " + String.join(" and ", given), "keep only one of them");
            return Optional.empty();
        }
        Optional<String> secret;
        String key = given.get(0);
        String value = node.getString(key, "");
        switch (key) {
            case "secretFile":
                secret = secretFromFile(value.trim(), label, surroundings, problems);
                break;
            case "secretEnv":
                secret = surroundings.environment(value.trim()).filter(s -> !s.isEmpty());
                if (secret.isEmpty()) {
                    problems.add("provider.secretEnv", label + ": environment variable '" + value.trim() + "' is not set or empty",
                        "set it in James's environment, or correct its name");
                    return Optional.empty();
                }
                break;
            default:
                secret = Optional.of(value);
        }
        if (secret.isPresent() && secret.get().isEmpty()) {
            problems.add("provider." + key, label + ": the secret is empty", "give the secret the provider gave you");
            return Optional.empty();
        }
        if (secret.isPresent() && !SettingReader.printable(secret.get())) {
            // never quote the secret: this text ends up in the start-up log
            problems.add("provider." + key, label + ": the secret has control characters or line breaks",
                "write it on one line (a secret file may end with one line break)");
            return Optional.empty();
        }
        return secret;
    }

    /**
     * A warning, not a refusal: secrets mounted by container platforms are often group- or
     * world-readable by default, and James itself runs alone in its container there.
     */
    private static void warnIfOthersMayRead(Path file, String label) {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException | IOException e) {
            return;
        }
        if (permissions.contains(PosixFilePermission.GROUP_READ) || permissions.contains(PosixFilePermission.OTHERS_READ)) {
            LOGGER.warn("{}: {}: secret file {} can be read by other users than James's ({}). Fix: chmod 600 {} (or 400)",
                CustomerConfiguration.FILE_NAME, label, file, PosixFilePermissions.toString(permissions), file);
        }
    }

    private static Optional<String> secretFromFile(String path, String label, Surroundings surroundings, ConfigProblems problems) {
        try {
            Path file = surroundings.resolve(path);
            String content = Files.readString(file, StandardCharsets.UTF_8);
            warnIfOthersMayRead(file, label);
            return Optional.of(content.endsWith("\r\n") ? content.substring(0, content.length() - 2)
                : content.endsWith("\n") ? content.substring(0, content.length() - 1) : content);
        } catch (IOException | InvalidPathException e) {
            problems.add("provider.secretFile", label + ": secret file '" + path + "' cannot be read (" + e.getClass().getSimpleName() + ")",
                "create it, readable by James only (chmod 600), with the secret on its first line, or correct the path");
            return Optional.empty();
        }
    }

    /**
     * Spelled as the provider side spells them ({@link AtrnConfiguration#normalizeDomain}), so one
     * file's domains can be copied into the other. An internationalized name is refused with its
     * A-label in the fix: RFC 2645's ABNF allows only that form on the wire.
     */
    private static List<String> domains(SettingReader provider, String label, ConfigProblems problems) {
        Set<String> domains = new LinkedHashSet<>();
        for (String item : provider.items("domains")) {
            Optional<Domain> domain = AtrnConfiguration.normalizeDomain(item);
            if (domain.isEmpty()) {
                provider.badValue("domains", item, "is not a domain name", fixFor(item));
            } else if (!domains.add(domain.get().asString())) {
                provider.badValue("domains", item, "is listed twice", "list each domain once");
            }
        }
        String atrnLine = "ATRN " + String.join(",", domains) + "\r\n";
        if (atrnLine.length() > MAX_COMMAND_LINE) {
            problems.add("provider.domains", label + ": 'ATRN' with these " + domains.size() + " domains is a line of "
                + atrnLine.length() + " octets, above the 512 of RFC 5321 section 4.5.3.1.4",
                "split them over two <provider> entries with the same host and login, or leave <domains> empty for a bare ATRN "
                    + "(every domain the login may collect)");
        }
        return ImmutableList.copyOf(domains);
    }

    private static String fixFor(String item) {
        if (CharMatcher.ascii().matchesAllOf(item)) {
            return "write a fully qualified domain name such as customer.example, separated by commas";
        }
        try {
            return "write its A-label " + IDN.toASCII(item, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT)
                + " (RFC 2645 allows only ASCII names)";
        } catch (IllegalArgumentException e) {
            return "write its A-label (xn--...): RFC 2645 allows only ASCII names";
        }
    }

    /** {@code key} as written in the element {@code settings} reads; its range by its full key. */
    private static Duration duration(SettingReader settings, String key) {
        return settings.duration(key, DURATIONS.get(settings.fullKey(key)));
    }

    private static int boundedInt(SettingReader settings, String key, int fallback, int least, int most) {
        return settings.integer(key, fallback, least, most, "a number from " + least + " to " + most,
            "write a number such as " + fallback);
    }
}
