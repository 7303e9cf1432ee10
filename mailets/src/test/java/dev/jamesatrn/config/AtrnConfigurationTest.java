package dev.jamesatrn.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.server.core.configuration.FileConfigurationProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AtrnConfigurationTest {
    private static final String SOURCE = "conf/atrn.xml";
    private static final String LOGINS = "<logins><login name=\"customer\" secret=\"s1\"/><login name=\"other\" secret=\"s2\"/></logins>";

    private static AtrnConfiguration parse(String body) throws Exception {
        String xml = "<atrn>" + body + "</atrn>";
        return AtrnConfiguration.parse(FileConfigurationProvider.getConfig(
            new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))), SOURCE);
    }

    @Test
    void aMinimalFileGivesTheDocumentedDefaults() throws Exception {
        AtrnConfiguration configuration = parse(LOGINS
            + "<domains><domain name=\"Customer.Example.\"><login>customer</login></domain></domains>");

        assertThat(configuration.domains()).containsExactly(Domain.of("customer.example"));
        assertThat(configuration.domainsClaimableBy("customer")).containsExactly(Domain.of("customer.example"));
        assertThat(configuration.domainsClaimableBy("other")).isEmpty();
        assertThat(configuration.repositoryUrl(Domain.of("customer.example")).asString())
            .isEqualTo("file://var/mail/atrn/customer.example");
        assertThat(configuration.allowPlainAuthWithoutTls()).isFalse();
        assertThat(configuration.bounceProcessor()).isEqualTo("bounces");
        assertThat(configuration.timeouts()).isEqualTo(Timeouts.RFC_5321);
        assertThat(configuration.domain(Domain.of("customer.example")).orElseThrow()
            .accepts(new MailAddress("anyone@customer.example"))).isTrue();
    }

    @Test
    void aTlsRecordPerLineIsForImplicitTlsUnlessConfiguredOtherwise() throws Exception {
        String domains = "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>";
        TlsRecordPerLine byDefault = parse(LOGINS + domains).tlsRecordPerLine();
        assertThat(byDefault).isEqualTo(TlsRecordPerLine.IMPLICIT_TLS);
        assertThat(byDefault.appliesTo(true, false)).as("implicit TLS").isTrue();
        assertThat(byDefault.appliesTo(true, true)).as("after STARTTLS").isFalse();
        assertThat(byDefault.appliesTo(false, false)).as("plain text").isFalse();

        TlsRecordPerLine all = parse(LOGINS + domains + "<tlsRecordPerLine>allTls</tlsRecordPerLine>")
            .tlsRecordPerLine();
        assertThat(all.appliesTo(true, true)).isTrue();
        assertThat(all.appliesTo(false, true)).isFalse();
        assertThat(parse(LOGINS + domains + "<tlsRecordPerLine> never </tlsRecordPerLine>").tlsRecordPerLine()
            .appliesTo(true, false)).isFalse();

        assertThatThrownBy(() -> parse(LOGINS + domains + "<tlsRecordPerLine>yes</tlsRecordPerLine>"))
            .isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("conf/atrn.xml")
            .hasMessageContaining("tlsRecordPerLine")
            .hasMessageContaining("implicitTls");
    }

    @Test
    void recipientListsTimeoutsAndSeveralLoginsAreRead() throws Exception {
        AtrnConfiguration configuration = parse(LOGINS
            + "<timeouts><greeting>30s</greeting><dataTermination>2m</dataTermination></timeouts>"
            + "<domains><domain name=\"customer.example\"><login>customer, other</login>"
            + "<recipients>alice, bob@customer.example</recipients></domain></domains>");

        AtrnDomain domain = configuration.domain(Domain.of("customer.example")).orElseThrow();
        assertThat(domain.logins()).containsExactly("customer", "other");
        assertThat(domain.accepts(new MailAddress("alice@customer.example"))).isTrue();
        assertThat(domain.accepts(new MailAddress("bob@customer.example"))).isTrue();
        assertThat(domain.accepts(new MailAddress("mallory@customer.example"))).isFalse();
        assertThat(configuration.timeouts().greeting()).isEqualTo(Duration.ofSeconds(30));
        assertThat(configuration.timeouts().dataTermination()).isEqualTo(Duration.ofMinutes(2));
        assertThat(configuration.timeouts().rcpt()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void anUnknownKeyIsNamedWithTheFile() {
        assertThatThrownBy(() -> parse(LOGINS + "<repositoryUrlPrefx>file://x/</repositoryUrlPrefx>"
            + "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>"))
            .isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("conf/atrn.xml: key 'repositoryUrlPrefx': unknown key");
    }

    @Test
    void aDomainWithoutLoginIsRefusedWithTheFix() {
        assertThatThrownBy(() -> parse(LOGINS + "<domains><domain name=\"customer.example\"/></domains>"))
            .hasMessageContaining("conf/atrn.xml: key 'domains.domain.login': domain 'customer.example' has no login allowed to claim it")
            .hasMessageContaining("Fix: add <login>LOGIN</login> inside <domain name=\"customer.example\">");
    }

    @Test
    void aLoginWithoutSecretOrEntryIsRefused() {
        assertThatThrownBy(() -> parse("<logins><login name=\"customer\"/></logins>"
            + "<domains><domain name=\"customer.example\"><login>customer</login><login>ghost</login></domain></domains>"))
            .hasMessageContaining("login 'customer' has no secret")
            .hasMessageContaining("names login 'ghost' which has no <login> entry");
    }

    @Test
    void aMalformedRepositoryUrlIsRefused() {
        assertThatThrownBy(() -> parse(LOGINS + "<repositoryUrlPrefix>var/mail/atrn</repositoryUrlPrefix>"
            + "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>"))
            .hasMessageContaining("key 'repositoryUrlPrefix': 'var/mail/atrn/' is not a mail repository URL");
    }

    @Test
    void noDomainAtAllIsRefused() {
        assertThatThrownBy(() -> parse(LOGINS)).hasMessageContaining("key 'domains.domain': no ATRN domain is declared");
    }

    @Test
    void badValuesAreAllReportedAtOnce() {
        assertThatThrownBy(() -> parse(LOGINS + "<timeouts><rcpt>soon</rcpt></timeouts>"
            + "<allowPlainAuthWithoutTls>yes</allowPlainAuthWithoutTls>"
            + "<domains><domain name=\"not a domain\"><login>customer</login></domain>"
            + "<domain name=\"customer.example\"><login>customer</login><recipients>x@elsewhere.example</recipients></domain>"
            + "</domains>"))
            .hasMessageContaining("key 'timeouts.rcpt': 'soon' is not a duration")
            .hasMessageContaining("key 'allowPlainAuthWithoutTls': 'yes' is not a boolean")
            .hasMessageContaining("key 'domains.domain[@name]': 'not a domain' is not a domain name")
            .hasMessageContaining("'x@elsewhere.example' is not in domain 'customer.example'");
    }

    @Test
    void domainSpellingIsNormalizedInOnePlace() {
        assertThat(AtrnConfiguration.normalizeDomain("Customer.EXAMPLE.")).contains(Domain.of("customer.example"));
        assertThat(AtrnConfiguration.normalizeDomain("customer")).isEmpty();
        assertThat(AtrnConfiguration.normalizeDomain("[127.0.0.1]")).isEmpty();
        assertThat(AtrnConfiguration.normalizeDomain("192.0.2.1")).isEmpty();
        assertThat(AtrnConfiguration.normalizeDomain("xn--bcher-kva.example")).contains(Domain.of("xn--bcher-kva.example"));
        assertThat(AtrnConfiguration.normalizeDomain("b\u00fccher.example")).isEmpty();
        assertThat(AtrnConfiguration.normalizeDomain("-bad.example")).isEmpty();
        assertThat(AtrnConfiguration.normalizeDomain("a..example")).isEmpty();
        assertThat(AtrnConfiguration.normalizeDomain("")).isEmpty();
    }

    @Test
    void policiesHaveSafeDefaultsAndCanBeSet() throws Exception {
        String domains = "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>";
        Policies defaults = parse(LOGINS + domains).policies();
        assertThat(defaults.maxParkedLifetime()).isEqualTo(Duration.ofDays(5));
        assertThat(defaults.delayWarningAfter()).isEmpty();
        assertThat(defaults.minAtrnInterval()).isEmpty();
        assertThat(defaults.authFailureDelay()).isEqualTo(Duration.ofSeconds(1));

        Policies set = parse(LOGINS + domains + "<maxParkedLifetime>3d</maxParkedLifetime>"
            + "<delayWarningAfter>4h</delayWarningAfter><authFailureDelay>0s</authFailureDelay>"
            + "<minAtrnInterval>1m</minAtrnInterval>").policies();
        assertThat(set.maxParkedLifetime()).isEqualTo(Duration.ofDays(3));
        assertThat(set.delayWarningAfter()).contains(Duration.ofHours(4));
        assertThat(set.authFailureDelay()).isZero();
        assertThat(set.minAtrnInterval()).contains(Duration.ofMinutes(1));
    }

    /** James's Username.of lower-cases; an ODMR login is that same canonical form everywhere. */
    @Test
    void loginsAreComparedInJamesCanonicalFormWhateverTheirSpelling() throws Exception {
        AtrnConfiguration configuration = parse("<logins><login name=\"Customer\" secret=\"s1\"/></logins>"
            + "<domains><domain name=\"customer.example\"><login>CUSTOMER</login></domain></domains>");

        assertThat(configuration.domainsClaimableBy("customer")).containsExactly(Domain.of("customer.example"));
        assertThat(configuration.domainsClaimableBy("Customer")).containsExactly(Domain.of("customer.example"));
        assertThat(configuration.mayClaim("cUsToMeR", Domain.of("customer.example"))).isTrue();
        assertThat(configuration.secretOf("customer")).contains("s1");
        assertThat(configuration.secretOf("CUSTOMER")).contains("s1");
        assertThat(configuration.domain(Domain.of("customer.example")).orElseThrow().logins()).containsExactly("customer");
    }

    @Test
    void twoLoginsThatDifferOnlyInCaseAreRefusedWithTheFix() {
        assertThatThrownBy(() -> parse("<logins><login name=\"Bob\" secret=\"s1\"/><login name=\"bob\" secret=\"s2\"/></logins>"
            + "<domains><domain name=\"customer.example\"><login>bob</login></domain></domains>"))
            .isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("conf/atrn.xml: key 'logins.login[@name]': logins 'Bob' and 'bob' differ only in case")
            .hasMessageContaining("Fix: keep one <login name=\"bob\">, or rename one of them (and the <login> of its domains)");
    }

    @Test
    void authFailureLimitsHaveSafeDefaultsAndCanBeSetOrTurnedOff() throws Exception {
        String domains = "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>";
        assertThat(parse(LOGINS + domains).authLimits())
            .isEqualTo(new AuthLimits(20, 10, Duration.ofMinutes(10)));

        assertThat(parse(LOGINS + domains + "<authFailuresPerAddress>5</authFailuresPerAddress>"
            + "<authFailuresPerLogin>0</authFailuresPerLogin><authFailureWindow>1h</authFailureWindow>").authLimits())
            .isEqualTo(new AuthLimits(5, 0, Duration.ofHours(1)));

        assertThatThrownBy(() -> parse(LOGINS + domains + "<authFailuresPerAddress>-1</authFailuresPerAddress>"
            + "<authFailureWindow>0s</authFailureWindow>"))
            .hasMessageContaining("conf/atrn.xml: key 'authFailuresPerAddress': '-1' is not a number of failures. "
                + "Fix: write a number such as 20, or 0 for no limit.")
            .hasMessageContaining("key 'authFailureWindow': '0s' is not a duration");
    }

    @Test
    void aLoginJamesCannotTakeAsAUserNameIsRefused() {
        assertThatThrownBy(() -> parse("<logins><login name=\"a@b@c\" secret=\"s\"/><login name=\"tab&#9;bed\" secret=\"s\"/></logins>"
            + "<domains><domain name=\"customer.example\"><login>a@b@c</login></domain></domains>"))
            .hasMessageContaining("key 'logins.login[@name]': login 'a@b@c' is not a user name James accepts")
            .hasMessageContaining("is not a user name James accepts. Fix: use at most 255 printable characters");
    }

    @Test
    void etrnPoliciesHaveSafeDefaultsAndCanBeSet() throws Exception {
        String domains = "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>";
        EtrnPolicies defaults = parse(LOGINS + domains).etrnPolicies();
        assertThat(defaults.maxEtrnPerClient()).isEqualTo(10);
        assertThat(defaults.etrnClientWindow()).isEqualTo(Duration.ofMinutes(1));
        assertThat(defaults.ownHostNames()).isEmpty();

        EtrnPolicies set = parse(LOGINS + domains + "<maxEtrnPerClient>3</maxEtrnPerClient>"
            + "<etrnClientWindow>10m</etrnClientWindow><ownHostNames>MX2.Provider.Example., mx3.provider.example node4</ownHostNames>")
            .etrnPolicies();
        assertThat(set.maxEtrnPerClient()).isEqualTo(3);
        assertThat(set.etrnClientWindow()).isEqualTo(Duration.ofMinutes(10));
        assertThat(set.ownHostNames()).containsExactly("mx2.provider.example", "mx3.provider.example", "node4");
    }

    @Test
    void badEtrnPoliciesAreRefusedWithTheFix() {
        assertThatThrownBy(() -> parse(LOGINS + "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>"
            + "<maxEtrnPerClient>0</maxEtrnPerClient><etrnClientWindow>often</etrnClientWindow>"
            + "<ownHostNames>mx2.provider.example, [192.0.2.1]</ownHostNames>"))
            .hasMessageContaining("key 'maxEtrnPerClient': '0' is not a positive integer. Fix: write a number such as 10")
            .hasMessageContaining("key 'etrnClientWindow': 'often' is not a duration")
            .hasMessageContaining("key 'ownHostNames': '[192.0.2.1]' is not a host name. Fix: list the names");
    }

    /** ETRN deliveries run on threads of their own, so ATRN customers always keep theirs. */
    @Test
    void etrnDeliveriesGetAQuarterOfTheSessionThreadsUnlessSet() throws Exception {
        String domains = "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>";
        assertThat(parse(LOGINS + domains).maxEtrnDeliveries()).isEqualTo(16);
        assertThat(parse(LOGINS + domains + "<maxConcurrentSessions>3</maxConcurrentSessions>").maxEtrnDeliveries()).isEqualTo(1);
        assertThat(parse(LOGINS + domains + "<maxEtrnDeliveries>5</maxEtrnDeliveries>").maxEtrnDeliveries()).isEqualTo(5);

        assertThatThrownBy(() -> parse(LOGINS + domains + "<maxEtrnDeliveries>0</maxEtrnDeliveries>"))
            .hasMessageContaining("conf/atrn.xml: key 'maxEtrnDeliveries': '0' is not a positive integer. Fix: write a number such as 16.");
    }

    /**
     * A duration the code turns into nanoseconds (Duration.toNanos overflows past 292 years) or
     * adds to a clock must be refused at start, not throw on the event loop at the first ETRN.
     */
    @ParameterizedTest
    @CsvSource({
        "etrnClientWindow, 1d", "authFailureWindow, 1d", "minAtrnInterval, 1d", "claimLease, 1h",
        "expiryCheckInterval, 1d", "authFailureDelay, 1m", "maxParkedLifetime, 365d", "delayWarningAfter, 365d",
        "timeouts.greeting, 1h", "timeouts.command, 1h", "timeouts.mail, 1h", "timeouts.rcpt, 1h",
        "timeouts.dataInitiation, 1h", "timeouts.dataBlock, 1h", "timeouts.dataTermination, 1h"})
    void anAbsurdlyLongDurationIsRefusedWithItsMaximum(String key, String maximum) throws Exception {
        String domains = "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains>";
        assertThat(parse(LOGINS + domains + element(key, maximum))).isNotNull();

        assertThatThrownBy(() -> parse(LOGINS + domains + element(key, "200000d")))
            .isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("conf/atrn.xml: key '" + key + "': '200000d' is longer than " + maximum + ", the most this key allows. "
                + "Fix: write a positive duration of at most " + maximum + ".");
        assertThatThrownBy(() -> parse(LOGINS + domains + element(key, "99999999999999999999d")))
            .hasMessageContaining("key '" + key + "': '99999999999999999999d' is not a duration");
    }

    private static String element(String key, String value) {
        if (key.startsWith("timeouts.")) {
            String name = key.substring("timeouts.".length());
            return "<timeouts><" + name + ">" + value + "</" + name + "></timeouts>";
        }
        return "<" + key + ">" + value + "</" + key + ">";
    }
}
