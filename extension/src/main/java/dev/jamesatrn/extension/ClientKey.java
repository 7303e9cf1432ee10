package dev.jamesatrn.extension;

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
        if (client instanceof Inet6Address) {
            byte[] prefix = Arrays.copyOf(client.getAddress(), 16);
            Arrays.fill(prefix, 8, 16, (byte) 0);
            try {
                return InetAddress.getByAddress(prefix).getHostAddress() + "/64";
            } catch (UnknownHostException e) {
                throw new IllegalStateException("16 bytes are always an IPv6 address", e);
            }
        }
        return client.getHostAddress();
    }
}
