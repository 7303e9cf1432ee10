package dev.jamesatrn.config;

import java.time.Duration;
import java.util.Set;

import com.google.common.base.MoreObjects;
import com.google.common.collect.ImmutableSet;

/**
 * What keeps ETRN (RFC 1985, no AUTH needed) from being used against the service: each
 * client address may start {@code maxEtrnPerClient} ETRN within {@code etrnClientWindow}
 * (IPv6 clients counted per /64), and {@code ownHostNames} are the names, besides the
 * {@code <helloName>} of every server in smtpserver.xml, that mean "this server" when a peer
 * greets or answers EHLO with them (other nodes of a cluster): mail for it would loop.
 */
public final class EtrnPolicies {
    public static final EtrnPolicies DEFAULT = new EtrnPolicies(10, Duration.ofMinutes(1), ImmutableSet.of());

    private final int maxEtrnPerClient;
    private final Duration etrnClientWindow;
    private final Set<String> ownHostNames;

    public EtrnPolicies(int maxEtrnPerClient, Duration etrnClientWindow, Set<String> ownHostNames) {
        this.maxEtrnPerClient = maxEtrnPerClient;
        this.etrnClientWindow = etrnClientWindow;
        this.ownHostNames = ImmutableSet.copyOf(ownHostNames);
    }

    public int maxEtrnPerClient() {
        return maxEtrnPerClient;
    }

    public Duration etrnClientWindow() {
        return etrnClientWindow;
    }

    /** Lower case, without a trailing dot. */
    public Set<String> ownHostNames() {
        return ownHostNames;
    }

    @Override
    public String toString() {
        return MoreObjects.toStringHelper(this)
            .add("maxEtrnPerClient", maxEtrnPerClient)
            .add("etrnClientWindow", etrnClientWindow)
            .add("ownHostNames", ownHostNames)
            .toString();
    }
}
