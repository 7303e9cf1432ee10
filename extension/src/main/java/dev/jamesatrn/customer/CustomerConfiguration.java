package dev.jamesatrn.customer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.core.Domain;
import org.apache.james.util.DurationParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.base.CharMatcher;
import com.google.common.base.Splitter;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.net.InetAddresses;

import dev.jamesatrn.config.AtrnConfiguration;

/**
 * The customer role (this James collects its own domains' mail from providers over ATRN, RFC
 * 2645), read from a file of its own, {@code conf/atrn-customer.xml}, so that a provider-only
 * James never sees it. No {@code <provider>} (or no file at all) means the role is off and
 * nothing is started. Every problem is reported at once, each with file, key and fix, like
 * {@link AtrnConfiguration}: they stop James at start.
 */
public final class CustomerConfiguration {
    public static final String FILE_NAME = "atrn-customer.xml";
    private static final Logger LOGGER = LoggerFactory.getLogger(CustomerConfiguration.class);
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

    /** Where a duration key's value must lie: below is unsafe or against an RFC, above is a typo. */
    private static final class Bounds {
        final Duration fallback;
        final Duration least;
        final Duration most;
        final String why;

        Bounds(Duration fallback, Duration least, Duration most, String why) {
            this.fallback = fallback;
            this.least = least;
            this.most = most;
            this.why = why;
        }
    }

    private static final Map<String, Bounds> DURATIONS = ImmutableMap.<String, Bounds>builder()
        .put("claimLease", new Bounds(DEFAULT_CLAIM_LEASE, Duration.ofSeconds(10), Duration.ofHours(1),
            "what a crashed node keeps a provider's poll for"))
        .put("provider.pollInterval", new Bounds(DEFAULT_POLL_INTERVAL, Duration.ofMinutes(1), Duration.ofDays(1),
            "more often than once a minute only loads the provider"))
        .put("provider.initialBackoff", new Bounds(DEFAULT_INITIAL_BACKOFF, Duration.ofSeconds(10), Duration.ofDays(1),
            "the wait after a first failed poll"))
        .put("provider.maxBackoff", new Bounds(DEFAULT_MAX_BACKOFF, Duration.ofSeconds(10), Duration.ofDays(1),
            "the longest wait after failed polls"))
        .put("provider.commandTimeout", new Bounds(DEFAULT_COMMAND_TIMEOUT, Duration.ofMinutes(1), Duration.ofHours(1),
            "RFC 5321 section 4.5.3.2 asks for 5 minutes"))
        .put("provider.maxReceiveTime", new Bounds(DEFAULT_MAX_RECEIVE_TIME, Duration.ofMinutes(1), Duration.ofDays(1),
            "the longest a provider may keep one poll's reversed session; the rest of its mail waits for the next poll"))
        .put("provider.atrnReplyTimeout", new Bounds(MINIMUM_ATRN_REPLY_TIMEOUT, MINIMUM_ATRN_REPLY_TIMEOUT, Duration.ofHours(1),
            "RFC 2645 section 5.2.1 requires at least 10 minutes"))
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
    private static final Pattern HOST_NAME = Pattern.compile(
        "^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$");
    private static final CharMatcher SEPARATORS = CharMatcher.anyOf(", \t\r\n");

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

    public static CustomerConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source)
            throws ConfigurationException {
        return parse(config, source, Surroundings.of(Path::of));
    }

    static CustomerConfiguration parse(HierarchicalConfiguration<ImmutableNode> config, String source,
                                       Surroundings surroundings) throws ConfigurationException {
        Problems problems = new Problems(source);
        rejectUnknownKeys(config, problems);

        String inboundServer = config.getString("inboundServer", DEFAULT_INBOUND_SERVER).trim();
        if (inboundServer.isEmpty()) {
            problems.add("inboundServer", "it is empty", "write the <jmxName> of the <smtpserver> of conf/smtpserver.xml that "
                + "receives mail from the Internet, e.g. " + DEFAULT_INBOUND_SERVER);
        }
        int maxParallelPolls = boundedInt(config, "maxParallelPolls", "", DEFAULT_MAX_PARALLEL_POLLS, 1, 64, problems);
        Duration claimLease = duration(config, "claimLease", "", problems);

        List<Provider> providers = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (HierarchicalConfiguration<ImmutableNode> node : config.configurationsAt("provider")) {
            parseProvider(node, surroundings, problems).ifPresent(provider -> {
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

    private static Optional<Provider> parseProvider(HierarchicalConfiguration<ImmutableNode> node, Surroundings surroundings,
                                                    Problems problems) {
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

        String host = node.getString("host", "").trim().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            problems.add("provider.host", label + " has no host", "add <host>odmr.provider.example</host>");
        } else if (!HOST_NAME.matcher(host).matches() && !InetAddresses.isInetAddress(host)) {
            problems.add("provider.host", label + ": '" + host + "' is neither a host name nor an IP address",
                "write the provider's ODMR host, such as odmr.provider.example");
        }

        Provider.Tls tls = tls(node, label, problems);
        boolean allowPlaintext = bool(node, "allowPlaintext", false, label, problems);
        if (tls == Provider.Tls.NONE && !allowPlaintext) {
            problems.add("provider.tls", label + ": 'none' sends the AUTH exchange and every message in clear",
                "use <tls>starttls</tls> or <tls>implicit</tls>; only on a network you trust, keep none and add "
                    + "<allowPlaintext>true</allowPlaintext>");
        }
        int port = boundedInt(node, "port", label + ": ", tls == Provider.Tls.IMPLICIT ? IMPLICIT_TLS_PORT : ODMR_PORT, 1, 65535,
            problems);

        boolean verifyCertificate = bool(node, "verifyCertificate", true, label, problems);
        Provider.Trust trust = trust(node, tls, verifyCertificate, label, surroundings, problems);

        String login = node.getString("login", "").trim();
        if (login.isEmpty()) {
            problems.add("provider.login", label + " has no login", "add <login>LOGIN</login>, the login the provider gave you");
        } else if (!printable(login)) {
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

        List<String> domains = domains(node, label, problems);

        Duration pollInterval = duration(node, "provider.pollInterval", label + ": ", problems);
        Duration initialBackoff = duration(node, "provider.initialBackoff", label + ": ", problems);
        Duration maxBackoff = duration(node, "provider.maxBackoff", label + ": ", problems);
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            problems.add("provider.maxBackoff", label + ": maxBackoff " + shortest(maxBackoff) + " is shorter than initialBackoff "
                + shortest(initialBackoff), "make maxBackoff at least initialBackoff");
        }
        Duration commandTimeout = duration(node, "provider.commandTimeout", label + ": ", problems);
        Duration atrnReplyTimeout = duration(node, "provider.atrnReplyTimeout", label + ": ", problems);
        Duration maxReceiveTime = duration(node, "provider.maxReceiveTime", label + ": ", problems);

        if (problems.count() > before) {
            return Optional.empty();
        }
        return Optional.of(new Provider(name, host, port, tls, verifyCertificate, trust, login, secret.orElseThrow(), mechanism,
            domains, pollInterval, initialBackoff, maxBackoff, commandTimeout, atrnReplyTimeout, maxReceiveTime));
    }

    private static Provider.Tls tls(HierarchicalConfiguration<ImmutableNode> node, String label, Problems problems) {
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

    private static Provider.Mechanism mechanism(HierarchicalConfiguration<ImmutableNode> node, String label, Problems problems) {
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
                                        String label, Surroundings surroundings, Problems problems) {
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
                                           Problems problems) {
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
        if (secret.isPresent() && !printable(secret.get())) {
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
                FILE_NAME, label, file, java.nio.file.attribute.PosixFilePermissions.toString(permissions), file);
        }
    }

    private static Optional<String> secretFromFile(String path, String label, Surroundings surroundings, Problems problems) {
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
    private static List<String> domains(HierarchicalConfiguration<ImmutableNode> node, String label, Problems problems) {
        Set<String> domains = new LinkedHashSet<>();
        for (Object raw : node.getList("domains", List.of())) {
            for (String item : Splitter.on(SEPARATORS).trimResults().omitEmptyStrings().split(String.valueOf(raw))) {
                Optional<Domain> domain = AtrnConfiguration.normalizeDomain(item);
                if (domain.isEmpty()) {
                    problems.add("provider.domains", label + ": '" + item + "' is not a domain name", fixFor(item));
                } else if (!domains.add(domain.get().asString())) {
                    problems.add("provider.domains", label + ": '" + item + "' is listed twice", "list each domain once");
                }
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

    /** {@code key} is the full key (bounds and messages); the node is read at its last part. */
    private static Duration duration(HierarchicalConfiguration<ImmutableNode> node, String key, String label, Problems problems) {
        Bounds bounds = DURATIONS.get(key);
        String raw = node.getString(key.substring(key.lastIndexOf('.') + 1), null);
        if (raw == null) {
            return bounds.fallback;
        }
        Duration parsed;
        try {
            parsed = DurationParser.parse(raw.trim(), ChronoUnit.SECONDS);
        } catch (RuntimeException e) {
            problems.add(key, label + "'" + raw + "' is not a duration", "write a duration such as 90s, 15m or 1h");
            return bounds.fallback;
        }
        if (parsed.compareTo(bounds.least) < 0 || parsed.compareTo(bounds.most) > 0) {
            problems.add(key, label + "'" + raw + "' is outside " + shortest(bounds.least) + " .. " + shortest(bounds.most)
                + " (" + bounds.why + ")", "write a duration in that range; the default is " + shortest(bounds.fallback));
            return bounds.fallback;
        }
        return parsed;
    }

    /** 1d, 1h, 1m or 30s, as an operator writes it. */
    static String shortest(Duration duration) {
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

    private static int boundedInt(HierarchicalConfiguration<ImmutableNode> node, String key, String label, int fallback, int least,
                                  int most, Problems problems) {
        String raw = node.getString(key, null);
        if (raw == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            if (value >= least && value <= most) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        String fullKey = KNOWN_KEYS.contains(key) ? key : "provider." + key;
        problems.add(fullKey, label + "'" + raw + "' is not a number from " + least + " to " + most, "write a number such as " + fallback);
        return fallback;
    }

    private static boolean bool(HierarchicalConfiguration<ImmutableNode> node, String key, boolean fallback, String label,
                                Problems problems) {
        String raw = node.getString(key, null);
        if (raw == null) {
            return fallback;
        }
        String value = raw.trim().toLowerCase(Locale.ROOT);
        if (!value.equals("true") && !value.equals("false")) {
            problems.add("provider." + key, label + ": '" + raw + "' is not a boolean", "write true or false");
            return fallback;
        }
        return Boolean.parseBoolean(value);
    }

    /** Logins and secrets go on the wire and logins into log lines: no CR, LF or other control characters. */
    private static boolean printable(String value) {
        return value.codePoints().noneMatch(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
            || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR);
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

        int count() {
            return messages.size();
        }

        void throwIfAny() throws ConfigurationException {
            if (!messages.isEmpty()) {
                throw new ConfigurationException("Invalid ATRN customer configuration:\n  " + String.join("\n  ", messages));
            }
        }
    }
}
