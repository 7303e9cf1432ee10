package dev.jamesatrn.smtpserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** ETRN per client: a sliding window, IPv6 counted per /64, other clients never affected. */
class EtrnRateLimitTest {
    private static final long SECOND = 1_000_000_000L;

    private final EtrnRateLimit limit = new EtrnRateLimit(3, Duration.ofSeconds(60));

    @Test
    void theRequestAfterTheLimitWaitsUntilTheOldestLeavesTheWindow() throws Exception {
        InetAddress client = InetAddress.getByName("192.0.2.7");
        long start = 1_000 * SECOND;
        assertThat(limit.tryAcquire(client, start)).isEmpty();
        assertThat(limit.tryAcquire(client, start + 10 * SECOND)).isEmpty();
        assertThat(limit.tryAcquire(client, start + 20 * SECOND)).isEmpty();

        assertThat(limit.tryAcquire(client, start + 30 * SECOND)).contains(Duration.ofSeconds(30));
        assertThat(limit.tryAcquire(client, start + 59 * SECOND)).as("refusals do not count").contains(Duration.ofSeconds(1));
        assertThat(limit.tryAcquire(client, start + 60 * SECOND)).isEmpty();
        assertThat(limit.tryAcquire(client, start + 61 * SECOND)).contains(Duration.ofSeconds(9));
    }

    @Test
    void otherClientsAreCountedApart() throws Exception {
        long now = 1_000 * SECOND;
        for (int i = 0; i < 3; i++) {
            limit.tryAcquire(InetAddress.getByName("192.0.2.7"), now);
        }
        assertThat(limit.tryAcquire(InetAddress.getByName("192.0.2.7"), now)).isPresent();
        assertThat(limit.tryAcquire(InetAddress.getByName("192.0.2.8"), now)).isEmpty();
        assertThat(limit.tryAcquire(InetAddress.getByName("2001:db8:0:2::1"), now)).isEmpty();
    }

    @Test
    void anIpv6HostCannotEscapeByChangingItsInterfaceIdentifier() throws Exception {
        long now = 1_000 * SECOND;
        assertThat(limit.tryAcquire(InetAddress.getByName("2001:db8:0:1::1"), now)).isEmpty();
        assertThat(limit.tryAcquire(InetAddress.getByName("2001:db8:0:1::2"), now)).isEmpty();
        assertThat(limit.tryAcquire(InetAddress.getByName("2001:db8:0:1:aaaa:bbbb:cccc:dddd"), now)).isEmpty();
        assertThat(limit.tryAcquire(InetAddress.getByName("2001:db8:0:1::ffff"), now)).isEqualTo(Optional.of(Duration.ofSeconds(60)));
        assertThat(ClientKey.of(InetAddress.getByName("2001:db8:0:1::ffff"))).isEqualTo("2001:db8:0:1:0:0:0:0/64");
        // an IPv4-mapped IPv6 address is its IPv4 client, not the /64 every IPv4 client shares
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 7};
        assertThat(ClientKey.of(Inet6Address.getByAddress(null, mapped, -1))).isEqualTo("192.0.2.7");
    }
}
