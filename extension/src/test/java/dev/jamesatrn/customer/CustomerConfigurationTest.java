package dev.jamesatrn.customer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.server.core.configuration.FileConfigurationProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

class CustomerConfigurationTest {
    private static final String SOURCE = "conf/atrn-customer.xml";
    private static final String MINIMAL = "<host>odmr.provider.example</host><login>customer</login><secret>s3cret-value</secret>";
    // The JDK's own CA store: a trust store that exists and loads, with the JDK's documented password.
    private static final Path CACERTS = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");

    @TempDir
    Path tmp;

    private static HierarchicalConfiguration<ImmutableNode> xml(String body) throws ConfigurationException {
        String xml = "<atrncustomer>" + body + "</atrncustomer>";
        return FileConfigurationProvider.getConfig(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private CustomerConfiguration parse(String body) throws ConfigurationException {
        return parse(body, Map.of());
    }

    private CustomerConfiguration parse(String body, Map<String, String> environment) throws ConfigurationException {
        return CustomerConfiguration.parse(xml(body), SOURCE, new CustomerConfiguration.Surroundings() {
            @Override
            public Path resolve(String path) throws IOException {
                if (path.startsWith("file://")) {
                    return tmp.resolve(path.substring("file://".length()));
                }
                return Path.of(path);
            }

            @Override
            public Optional<String> environment(String name) {
                return Optional.ofNullable(environment.get(name));
            }
        });
    }

    private Provider provider(String elements) throws ConfigurationException {
        return parse("<provider name=\"main\">" + elements + "</provider>").providers().get(0);
    }

    private String problemsOf(String body) {
        return org.assertj.core.api.Assertions.catchThrowableOfType(() -> parse(body), ConfigurationException.class)
            .getMessage();
    }

    private String problemsOfProvider(String elements) {
        return problemsOf("<provider name=\"main\">" + elements + "</provider>");
    }

    @Test
    void aMinimalProviderGetsTheDocumentedDefaults() throws Exception {
        CustomerConfiguration configuration = parse("<provider name=\"main\">" + MINIMAL + "</provider>");

        assertThat(configuration.enabled()).isTrue();
        assertThat(configuration.inboundServer()).isEqualTo("smtpserver-global");
        assertThat(configuration.maxParallelPolls()).isEqualTo(4);
        assertThat(configuration.claimLease()).isEqualTo(Duration.ofMinutes(2));
        Provider provider = configuration.providers().get(0);
        assertThat(provider.name()).isEqualTo("main");
        assertThat(provider.host()).isEqualTo("odmr.provider.example");
        assertThat(provider.port()).isEqualTo(366);
        assertThat(provider.tls()).isEqualTo(Provider.Tls.STARTTLS);
        assertThat(provider.verifyCertificate()).isTrue();
        assertThat(provider.trust()).isSameAs(Provider.Trust.JVM_DEFAULT);
        assertThat(provider.login()).isEqualTo("customer");
        assertThat(provider.secret()).isEqualTo("s3cret-value");
        assertThat(provider.mechanism()).isEqualTo(Provider.Mechanism.CRAM_MD5);
        assertThat(provider.domains()).isEmpty();
        assertThat(provider.pollInterval()).isEqualTo(Duration.ofMinutes(15));
        assertThat(provider.initialBackoff()).isEqualTo(Duration.ofMinutes(1));
        assertThat(provider.maxBackoff()).isEqualTo(Duration.ofHours(1));
        assertThat(provider.commandTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(provider.atrnReplyTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(provider.maxReceiveTime()).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void noFileOrNoProviderMeansTheRoleIsOff() throws Exception {
        assertThat(CustomerConfiguration.parse(FileConfigurationProvider.EMPTY_CONFIGURATION, SOURCE).enabled()).isFalse();
        CustomerConfiguration globalsOnly = parse("<inboundServer>inbound</inboundServer><maxParallelPolls>2</maxParallelPolls>");
        assertThat(globalsOnly.enabled()).isFalse();
        assertThat(globalsOnly.inboundServer()).isEqualTo("inbound");
        assertThat(globalsOnly.maxParallelPolls()).isEqualTo(2);
    }

    @Test
    void theShippedSampleKeepsTheRoleOffAndItsCommentedExampleIsValid() throws Exception {
        Path sample = sampleFile();
        String text = Files.readString(sample);
        assertThat(CustomerConfiguration.parse(FileConfigurationProvider.getConfig(Files.newInputStream(sample)), SOURCE).enabled())
            .isFalse();

        String example = text.substring(text.lastIndexOf("<!--") + 4, text.lastIndexOf("-->"));
        Path secret = Files.writeString(tmp.resolve("odmr-main"), "the-secret\n");
        String uncommented = example.replace("/run/secrets/odmr-main", secret.toString());
        CustomerConfiguration on = parse(uncommented);
        assertThat(on.providers()).extracting(Provider::name).containsExactly("main");
        assertThat(on.providers().get(0).domains()).containsExactly("customer.example", "customer2.example");
    }

    private static Path sampleFile() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("config-samples").resolve(CustomerConfiguration.FILE_NAME);
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("config-samples/atrn-customer.xml not found");
    }

    @Test
    void everyProblemIsReportedAtOnceWithFileKeyAndFix() {
        String problems = problemsOf("<maxParallelPolls>0</maxParallelPolls><provider name=\"a b\"><port>0</port>"
            + "<tls>ssl</tls></provider><unknown>1</unknown>");

        assertThat(problems.lines().filter(line -> line.startsWith("  " + SOURCE + ": key '"))).hasSize(8);
        assertThat(problems.lines().skip(1)).allMatch(line -> line.contains(". Fix: ") && line.endsWith("."));
        assertThat(problems)
            .contains("key 'maxParallelPolls': '0' is not a number from 1 to 64")
            .contains("key 'provider[@name]': 'a b' is not a provider name")
            .contains("key 'provider.port': provider 'a b': '0' is not a number from 1 to 65535")
            .contains("key 'provider.tls': provider 'a b': 'ssl' is not one of implicit, starttls, none")
            .contains("key 'provider.host': provider 'a b' has no host")
            .contains("key 'provider.login': provider 'a b' has no login")
            .contains("key 'provider.secret': provider 'a b' has no secret")
            .contains("key 'unknown': unknown key");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", "-main", "main-", "a_b", "x/y", "été", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"})
    void aProviderNameMustBeSafeAsPathSegmentMetricAndClaimKey(String name) {
        assertThat(problemsOf("<provider name=\"" + name + "\">" + MINIMAL + "</provider>"))
            .contains("key 'provider[@name]': '" + name + "' is not a provider name");
    }

    @Test
    void providerNamesAreUniqueWithoutCaseAndRequired() throws Exception {
        assertThat(problemsOf("<provider name=\"Main\">" + MINIMAL + "</provider><provider name=\"main\">" + MINIMAL + "</provider>"))
            .contains("provider 'main' is declared twice");
        assertThat(problemsOf("<provider>" + MINIMAL + "</provider>")).contains("a <provider> has no name");
        assertThat(parse("<provider name=\"a\">" + MINIMAL + "</provider><provider name=\"b-2\">" + MINIMAL + "</provider>")
            .providers()).extracting(Provider::name).containsExactly("a", "b-2");
        // a valid name is a valid label of the claim key, whatever its first character
        assertThat(PollClaims.keyOf("1st").asString()).isEqualTo("customer_poll.1st.invalid");
    }

    @ParameterizedTest
    @CsvSource({"starttls,366", "none,366", "implicit,1366", "IMPLICIT,1366"})
    void thePortDefaultsByTlsMode(String tls, int port) throws Exception {
        Provider provider = provider(MINIMAL + "<tls>" + tls + "</tls><allowPlaintext>true</allowPlaintext>");
        assertThat(provider.port()).isEqualTo(port);
        assertThat(provider(MINIMAL + "<tls>" + tls + "</tls><allowPlaintext>true</allowPlaintext><port>2366</port>").port())
            .isEqualTo(2366);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "-1", "abc", ""})
    void aPortIsFrom1To65535(String port) {
        assertThat(problemsOfProvider(MINIMAL + "<port>" + port + "</port>"))
            .contains("key 'provider.port': provider 'main': '" + port + "' is not a number from 1 to 65535");
    }

    @ParameterizedTest
    @ValueSource(strings = {"odmr.provider.example", "localhost", "127.0.0.1", "::1", "[::1]", "ODMR.Provider.Example"})
    void aHostIsAHostNameOrAnAddress(String host) throws Exception {
        assertThat(provider(MINIMAL.replace("odmr.provider.example", host)).host())
            .isEqualTo(host.toLowerCase().replace("[", "").replace("]", ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"odmr provider", "-bad.example", "host_name.example", "a..b"})
    void aHostThatIsNeitherIsRefused(String host) {
        assertThat(problemsOfProvider(MINIMAL.replace("odmr.provider.example", host)))
            .contains("key 'provider.host': provider 'main': '" + host.toLowerCase() + "' is neither a host name nor an IP address");
    }

    @Test
    void plaintextNeedsAnExplicitOptIn() throws Exception {
        assertThat(problemsOfProvider(MINIMAL + "<tls>none</tls>"))
            .contains("key 'provider.tls': provider 'main': 'none' sends the AUTH exchange and every message in clear")
            .contains("<allowPlaintext>true</allowPlaintext>");
        assertThat(provider(MINIMAL + "<tls>none</tls><allowPlaintext>true</allowPlaintext>").tls()).isEqualTo(Provider.Tls.NONE);
        assertThat(problemsOfProvider(MINIMAL + "<tls>none</tls><allowPlaintext>yes</allowPlaintext>"))
            .contains("key 'provider.allowPlaintext': provider 'main': 'yes' is not a boolean");
    }

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "LOGIN", "plain"})
    void plainAndLoginOnlyInsideTls(String mechanism) throws Exception {
        assertThat(problemsOfProvider(MINIMAL + "<tls>none</tls><allowPlaintext>true</allowPlaintext><mechanism>" + mechanism
            + "</mechanism>")).contains("key 'provider.mechanism': provider 'main': " + mechanism.toUpperCase()
            + " sends the secret itself, and tls is none");
        assertThat(provider(MINIMAL + "<mechanism>" + mechanism + "</mechanism>").mechanism().saslName())
            .isEqualTo(mechanism.toUpperCase());
        assertThat(provider(MINIMAL + "<tls>implicit</tls><mechanism>" + mechanism + "</mechanism>").mechanism().saslName())
            .isEqualTo(mechanism.toUpperCase());
    }

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "LOGIN"})
    void plainAndLoginNeverGoToAnUncheckedCertificate(String mechanism) {
        // TLS with any certificate accepted protects the secret from nobody in the middle
        assertThat(problemsOfProvider(MINIMAL + "<verifyCertificate>false</verifyCertificate><mechanism>" + mechanism
            + "</mechanism>")).contains("key 'provider.mechanism': provider 'main': " + mechanism
            + " sends the secret itself, and verifyCertificate is false").contains("CRAM-MD5").doesNotContain("s3cret-value");
    }

    @Test
    void anUnknownMechanismIsRefused() {
        assertThat(problemsOfProvider(MINIMAL + "<mechanism>DIGEST-MD5</mechanism>"))
            .contains("key 'provider.mechanism': provider 'main': 'DIGEST-MD5' is not one of CRAM-MD5, PLAIN, LOGIN");
    }

    @Test
    void certificateChecksAreOnUnlessTurnedOffExplicitly() throws Exception {
        assertThat(provider(MINIMAL).verifyCertificate()).isTrue();
        assertThat(provider(MINIMAL + "<verifyCertificate>false</verifyCertificate>").verifyCertificate()).isFalse();
        assertThat(problemsOfProvider(MINIMAL + "<verifyCertificate>no</verifyCertificate>"))
            .contains("key 'provider.verifyCertificate': provider 'main': 'no' is not a boolean");
    }

    @Test
    void aTrustStoreMustExistAndLoad() throws Exception {
        Provider provider = provider(MINIMAL + "<trustStore>" + CACERTS + "</trustStore><trustStorePassword>changeit"
            + "</trustStorePassword>");
        assertThat(provider.trust().trustStore()).contains(CACERTS);
        assertThat(provider.trust().trustStorePassword()).contains("changeit");
        assertThat(provider.trust().trustStoreType()).isEqualTo("PKCS12");

        assertThat(problemsOfProvider(MINIMAL + "<trustStore>file://conf/missing.p12</trustStore>"))
            .contains("key 'provider.trustStore': provider 'main': trust store " + tmp.resolve("conf/missing.p12")
                + " does not exist or cannot be read");
        assertThat(problemsOfProvider(MINIMAL + "<trustStore>" + CACERTS + "</trustStore><trustStorePassword>wrong"
            + "</trustStorePassword>")).contains("key 'provider.trustStore': provider 'main': trust store " + CACERTS
            + " cannot be read as PKCS12");
        assertThat(problemsOfProvider(MINIMAL + "<trustStore>" + CACERTS + "</trustStore><trustStoreType>NOPE</trustStoreType>"))
            .contains("key 'provider.trustStoreType': provider 'main': 'NOPE' is not a key store type this JVM knows");
        Path notAStore = Files.writeString(tmp.resolve("garbage.p12"), "not a key store");
        assertThat(problemsOfProvider(MINIMAL + "<trustStore>" + notAStore + "</trustStore>"))
            .contains("cannot be read as PKCS12");
    }

    @Test
    void trustSettingsThatWouldBeIgnoredAreRefused() {
        assertThat(problemsOfProvider(MINIMAL + "<trustStorePassword>x</trustStorePassword>"))
            .contains("key 'provider.trustStore': provider 'main' has trustStorePassword or trustStoreType but no trustStore");
        assertThat(problemsOfProvider(MINIMAL + "<tls>none</tls><allowPlaintext>true</allowPlaintext><trustStore>" + CACERTS
            + "</trustStore>")).contains("has a trustStore but tls none");
        assertThat(problemsOfProvider(MINIMAL + "<verifyCertificate>false</verifyCertificate><trustStore>" + CACERTS
            + "</trustStore>")).contains("has a trustStore but verifyCertificate false");
    }

    @Test
    void aLoginIsRequiredAndOnOneLine() {
        assertThat(problemsOfProvider("<host>h.example</host><secret>s</secret>"))
            .contains("key 'provider.login': provider 'main' has no login");
        assertThat(problemsOfProvider("<host>h.example</host><secret>s</secret><login>a&#13;b</login>"))
            .contains("key 'provider.login': provider 'main': the login has control characters");
    }

    @Test
    void theSecretComesFromExactlyOnePlaceAndIsNeverQuoted() throws Exception {
        String head = "<host>h.example</host><login>customer</login>";
        Path file = Files.writeString(tmp.resolve("secret"), "from-a-file\n");
        assertThat(provider(head + "<secretFile>" + file + "</secretFile>").secret()).isEqualTo("from-a-file");
        Files.writeString(tmp.resolve("crlf"), "with-crlf\r\n");
        assertThat(provider(head + "<secretFile>file://crlf</secretFile>").secret()).isEqualTo("with-crlf");
        assertThat(parse("<provider name=\"main\">" + head + "<secretEnv>ODMR_SECRET</secretEnv></provider>",
            Map.of("ODMR_SECRET", "from-the-environment")).providers().get(0).secret()).isEqualTo("from-the-environment");

        assertThat(problemsOfProvider(head + "<secret>a</secret><secretEnv>X</secretEnv>"))
            .contains("key 'provider.secretEnv': provider 'main' has secret and secretEnv");
        assertThat(problemsOfProvider(head + "<secretEnv>NOT_SET_ANYWHERE</secretEnv>"))
            .contains("key 'provider.secretEnv': provider 'main': environment variable 'NOT_SET_ANYWHERE' is not set or empty");
        assertThat(problemsOfProvider(head + "<secretFile>" + tmp.resolve("absent") + "</secretFile>"))
            .contains("key 'provider.secretFile': provider 'main': secret file '" + tmp.resolve("absent") + "' cannot be read");
        assertThat(problemsOfProvider(head + "<secret></secret>")).contains("key 'provider.secret': provider 'main': the secret is empty");
        Files.writeString(tmp.resolve("two-lines"), "top-secret-1\ntop-secret-2\n");
        String twoLines = problemsOfProvider(head + "<secretFile>file://two-lines</secretFile>");
        assertThat(twoLines).contains("key 'provider.secretFile': provider 'main': the secret has control characters or line breaks")
            .doesNotContain("top-secret");
    }

    @Test
    void aSecretFileOthersMayReadIsWarnedAbout() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger logger = (Logger) LoggerFactory.getLogger(CustomerConfiguration.class);
        logger.addAppender(log);
        try {
            String head = "<host>h.example</host><login>customer</login>";
            Path shared = Files.writeString(tmp.resolve("shared"), "shared-secret\n");
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
            Path own = Files.writeString(tmp.resolve("own"), "own-secret\n");
            Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rw-------"));

            assertThat(provider(head + "<secretFile>" + own + "</secretFile>").secret()).isEqualTo("own-secret");
            assertThat(log.list).isEmpty();
            assertThat(provider(head + "<secretFile>" + shared + "</secretFile>").secret()).isEqualTo("shared-secret");
            assertThat(log.list).singleElement().satisfies(event -> {
                assertThat(event.getLevel()).isEqualTo(Level.WARN);
                assertThat(event.getFormattedMessage()).contains("atrn-customer.xml").contains("provider 'main'")
                    .contains(shared.toString()).contains("chmod 600").doesNotContain("shared-secret");
            });
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void domainsAreSpelledAsTheProviderSideSpellsThem() throws Exception {
        assertThat(provider(MINIMAL + "<domains>Customer.Example., customer2.example  customer3.example</domains>").domains())
            .containsExactly("customer.example", "customer2.example", "customer3.example");
        assertThat(problemsOfProvider(MINIMAL + "<domains>customer.example, customer.example</domains>"))
            .contains("key 'provider.domains': provider 'main': 'customer.example' is listed twice");
        assertThat(problemsOfProvider(MINIMAL + "<domains>localhost, [127.0.0.1], 1.2.3.4</domains>"))
            .contains("'localhost' is not a domain name").contains("'[127.0.0.1]' is not a domain name")
            .contains("'1.2.3.4' is not a domain name");
    }

    @Test
    void anInternationalizedDomainIsRefusedWithItsALabelInTheFix() {
        assertThat(problemsOfProvider(MINIMAL + "<domains>bücher.example</domains>"))
            .contains("'bücher.example' is not a domain name. Fix: write its A-label xn--bcher-kva.example");
    }

    @Test
    void theAtrnLineMustFitInOneSmtpCommandLine() throws Exception {
        StringBuilder fits = new StringBuilder();
        // "ATRN " + 42 names of 11 characters + 41 commas + CRLF = 510 octets
        for (int i = 0; i < 42; i++) {
            fits.append(i == 0 ? "" : ",").append(String.format("d%02d.example", i));
        }
        assertThat(provider(MINIMAL + "<domains>" + fits + "</domains>").domains()).hasSize(42);
        assertThat(problemsOfProvider(MINIMAL + "<domains>" + fits + ",d99.example</domains>"))
            .contains("'ATRN' with these 43 domains is a line of 522 octets, above the 512 of RFC 5321 section 4.5.3.1.4");
    }

    @ParameterizedTest
    @CsvSource({
        "pollInterval,59s,1m .. 1d", "pollInterval,2d,1m .. 1d", "pollInterval,soon,",
        "initialBackoff,9s,10s .. 1d", "maxBackoff,25h,10s .. 1d",
        "commandTimeout,30s,1m .. 1h", "commandTimeout,2h,1m .. 1h",
        "atrnReplyTimeout,9m,10m .. 1h", "atrnReplyTimeout,61m,10m .. 1h",
        "maxReceiveTime,30s,1m .. 1d", "maxReceiveTime,2d,1m .. 1d"})
    void durationsHaveBounds(String key, String value, String range) {
        String problems = problemsOfProvider(MINIMAL + "<" + key + ">" + value + "</" + key + ">");
        assertThat(problems).contains("key 'provider." + key + "': provider 'main': '" + value + "' is "
            + (range == null ? "not a duration" : "outside " + range));
    }

    @Test
    void theAtrnReplyTimeoutIsNeverBelowRfc2645sTenMinutes() throws Exception {
        assertThat(problemsOfProvider(MINIMAL + "<atrnReplyTimeout>300s</atrnReplyTimeout>"))
            .contains("RFC 2645 section 5.2.1 requires at least 10 minutes");
        assertThat(provider(MINIMAL + "<atrnReplyTimeout>15m</atrnReplyTimeout>").atrnReplyTimeout()).isEqualTo(Duration.ofMinutes(15));
    }

    @Test
    void durationsAreReadAndTheBackOffRangeIsConsistent() throws Exception {
        Provider provider = provider(MINIMAL + "<pollInterval>5m</pollInterval><initialBackoff>30s</initialBackoff>"
            + "<maxBackoff>2h</maxBackoff><commandTimeout>10m</commandTimeout><maxReceiveTime>3h</maxReceiveTime>");
        assertThat(provider.pollInterval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(provider.initialBackoff()).isEqualTo(Duration.ofSeconds(30));
        assertThat(provider.maxBackoff()).isEqualTo(Duration.ofHours(2));
        assertThat(provider.commandTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(provider.maxReceiveTime()).isEqualTo(Duration.ofHours(3));
        assertThat(problemsOfProvider(MINIMAL + "<initialBackoff>10m</initialBackoff><maxBackoff>5m</maxBackoff>"))
            .contains("key 'provider.maxBackoff': provider 'main': maxBackoff 5m is shorter than initialBackoff 10m");
    }

    @Test
    void globalSettingsHaveBounds() {
        assertThat(problemsOf("<claimLease>5s</claimLease>")).contains("key 'claimLease': '5s' is outside 10s .. 1h");
        assertThat(problemsOf("<maxParallelPolls>65</maxParallelPolls>"))
            .contains("key 'maxParallelPolls': '65' is not a number from 1 to 64");
        assertThat(problemsOf("<inboundServer> </inboundServer>")).contains("key 'inboundServer': it is empty");
    }

    @Test
    void theInboundServerMustBeAnEnabledSmtpServer() throws Exception {
        HierarchicalConfiguration<ImmutableNode> smtpservers = FileConfigurationProvider.getConfig(new ByteArrayInputStream(
            ("<smtpservers><smtpserver enabled=\"true\"><jmxName>smtpserver-global</jmxName></smtpserver>"
                + "<smtpserver enabled=\"false\"><jmxName>off</jmxName></smtpserver></smtpservers>").getBytes(StandardCharsets.UTF_8)));
        CustomerModule.checkInboundServer(smtpservers, parse("<provider name=\"main\">" + MINIMAL + "</provider>"));

        assertThatThrownBy(() -> CustomerModule.checkInboundServer(smtpservers,
            parse("<inboundServer>off</inboundServer><provider name=\"main\">" + MINIMAL + "</provider>")))
            .hasMessage("conf/atrn-customer.xml: key 'inboundServer': no enabled <smtpserver> of conf/smtpserver.xml has "
                + "<jmxName>off</jmxName> (enabled ones: smtpserver-global). Fix: write the jmxName of the server that receives "
                + "mail from the Internet, e.g. smtpserver-global.");
    }

    @Test
    void theSecretIsNeitherInTheProviderTextNorInProblems() throws Exception {
        Provider provider = provider(MINIMAL);
        assertThat(provider.toString()).doesNotContain("s3cret-value");
        assertThat(problemsOfProvider(MINIMAL + "<port>x</port><tls>bad</tls>")).doesNotContain("s3cret-value");
    }
}
