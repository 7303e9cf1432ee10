package dev.jamesatrn.smtpserver;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Who counts as one client for the per-client limits (ETRN rate, AUTH failures): an IPv4
 * address, or an IPv6 /64, the block one host or customer line usually holds (one address per
 * request would cost an attacker nothing).
 */
final class ClientKey {
    private ClientKey() {
    }

    static String of(InetAddress client) {
        byte[] bytes = client.getAddress();
        if (client instanceof Inet6Address && isIpv4Mapped(bytes)) {
            // ::ffff:a.b.c.d is an IPv4 client: by its /64 every IPv4 client would be one
            try {
                return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16)).getHostAddress();
            } catch (UnknownHostException e) {
                throw new IllegalStateException("4 bytes are always an IPv4 address", e);
            }
        }
        if (client instanceof Inet6Address) {
            byte[] prefix = Arrays.copyOf(bytes, 16);
            Arrays.fill(prefix, 8, 16, (byte) 0);
            try {
                return InetAddress.getByAddress(prefix).getHostAddress() + "/64";
            } catch (UnknownHostException e) {
                throw new IllegalStateException("16 bytes are always an IPv6 address", e);
            }
        }
        return client.getHostAddress();
    }

    /** RFC 4291 2.5.5.2: 80 zero bits, 16 one bits, then the IPv4 address. */
    private static boolean isIpv4Mapped(byte[] address) {
        if (address.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return address[10] == (byte) 0xff && address[11] == (byte) 0xff;
    }
}
