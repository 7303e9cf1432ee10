package dev.jamesatrn.smtpserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.james.server.core.configuration.FileConfigurationProvider;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import com.google.common.base.Ticker;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import dev.jamesatrn.config.AtrnConfiguration;

class AuthFailureLimitsTest {
    private final AtomicLong nanos = new AtomicLong();
    private final Ticker ticker = new Ticker() {
        @Override
        public long read() {
            return nanos.get();
        }
    };

    private AuthFailureLimits limits(String settings) throws Exception {
        String xml = "<atrn>" + settings + "<logins><login name=\"customer\" secret=\"s\"/></logins>"
            + "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains></atrn>";
        return new AuthFailureLimits(AtrnConfiguration.parse(FileConfigurationProvider.getConfig(
            new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))), "conf/atrn.xml"), ticker);
    }

    private static InetAddress ip(String address) throws Exception {
        return InetAddress.getByName(address);
    }

    private void pass(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    @Test
    void anAddressIsRefusedPastItsLimitUntilTheWindowThatStartedAtItsFirstFailureEnds() throws Exception {
        AuthFailureLimits limits = limits("<authFailuresPerAddress>3</authFailuresPerAddress><authFailureWindow>10m</authFailureWindow>");
        for (int i = 0; i < 3; i++) {
            assertThat(limits.begin(ip("192.0.2.7"), Optional.of("guess" + i)).refused()).isEmpty();
            pass(Duration.ofMinutes(1));
        }
        AuthFailureLimits.Refused refused = limits.begin(ip("192.0.2.7"), Optional.of("customer")).refused().orElseThrow();
        assertThat(refused.refusal()).isEqualTo(AuthFailureLimits.Refusal.ADDRESS);
        assertThat(refused.retryAfterSeconds()).isEqualTo(Duration.ofMinutes(7).toSeconds());
        assertThat(limits.refusalOf(ip("192.0.2.7"))).isPresent();
        assertThat(limits.refusalOf(ip("192.0.2.8"))).as("another address").isEmpty();

        pass(Duration.ofMinutes(7));
        assertThat(limits.refusalOf(ip("192.0.2.7"))).as("a new window").isEmpty();
        assertThat(limits.begin(ip("192.0.2.7"), Optional.of("customer")).refused()).isEmpty();
    }

    @Test
    void aSuccessGivesItsPlaceBack() throws Exception {
        AuthFailureLimits limits = limits("<authFailuresPerAddress>2</authFailuresPerAddress>");
        for (int i = 0; i < 5; i++) {
            limits.begin(ip("192.0.2.7"), Optional.of("customer")).succeeded();
        }
        assertThat(limits.begin(ip("192.0.2.7"), Optional.of("customer")).refused()).isEmpty();
        assertThat(limits.begin(ip("192.0.2.7"), Optional.of("customer")).refused()).isEmpty();
        assertThat(limits.begin(ip("192.0.2.7"), Optional.of("customer")).refused()).isPresent();
    }

    @Test
    void aLoginIsRefusedFromEveryAddressPastItsLimitAndUnknownLoginsAreCountedAlike() throws Exception {
        AuthFailureLimits limits = limits("<authFailuresPerLogin>2</authFailuresPerLogin>");
        for (String login : new String[] {"customer", "nobody"}) {
            assertThat(limits.begin(ip("192.0.2.1"), Optional.of(login)).refused()).isEmpty();
            assertThat(limits.begin(ip("192.0.2.2"), Optional.of(login)).refused()).isEmpty();
            assertThat(limits.begin(ip("192.0.2.3"), Optional.of(login)).refused().orElseThrow().refusal())
                .as("a login that exists and one that does not get the same answer").isEqualTo(AuthFailureLimits.Refusal.LOGIN);
        }
        assertThat(limits.begin(ip("192.0.2.3"), Optional.of("other")).refused()).isEmpty();
    }

    @Test
    void zeroTurnsALimitOff() throws Exception {
        AuthFailureLimits limits = limits("<authFailuresPerAddress>0</authFailuresPerAddress><authFailuresPerLogin>0</authFailuresPerLogin>");
        for (int i = 0; i < 1000; i++) {
            assertThat(limits.begin(ip("192.0.2.7"), Optional.of("customer")).refused()).isEmpty();
        }
    }

    @Test
    void anIpv6Slash64CountsAsOneClient() throws Exception {
        assertThat(ClientKey.of(ip("2001:db8:1:2:aaaa::1"))).isEqualTo(ClientKey.of(ip("2001:db8:1:2:bbbb::2")));
        assertThat(ClientKey.of(ip("2001:db8:1:3::1"))).isNotEqualTo(ClientKey.of(ip("2001:db8:1:2::1")));

        AuthFailureLimits limits = limits("<authFailuresPerAddress>1</authFailuresPerAddress>");
        limits.begin(ip("2001:db8:1:2::1"), Optional.empty());
        assertThat(limits.refusalOf(ip("2001:db8:1:2::ffff"))).isPresent();
    }

    @Test
    void reachingALimitIsLoggedOncePerWindowWithTheSettingToChange() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger logger = (Logger) LoggerFactory.getLogger(AuthFailureLimits.LOGGER_NAME);
        logger.addAppender(log);
        try {
            AuthFailureLimits limits = limits("<authFailuresPerAddress>1</authFailuresPerAddress><authFailuresPerLogin>2</authFailuresPerLogin>");
            limits.begin(ip("192.0.2.7"), Optional.of("customer"));
            for (int i = 0; i < 5; i++) {
                limits.refusalOf(ip("192.0.2.7"));
                limits.begin(ip("192.0.2.7"), Optional.of("customer"));
            }
            limits.begin(ip("192.0.2.8"), Optional.of("customer"));
            limits.begin(ip("192.0.2.9"), Optional.of("customer\r\nforged"));
            for (int i = 0; i < 5; i++) {
                limits.begin(ip("192.0.2.10"), Optional.of("customer"));
            }

            assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "AUTH refused for client address 192.0.2.7 for the next 600 s with 421: 1 failed authentications within 600 s "
                    + "(authFailuresPerAddress of conf/atrn.xml)",
                "AUTH refused for login 'customer' (first refused to 192.0.2.10) for the next 600 s with 454: 2 failed "
                    + "authentications within 600 s (authFailuresPerLogin of conf/atrn.xml)");
        } finally {
            logger.detachAppender(log);
        }
    }
}
