package dev.jamesatrn.drain;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.core.Domain;
import org.apache.james.dnsservice.api.DNSService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.net.HostAndPort;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.config.AtrnDomain;

/**
 * Where ETRN (RFC 1985) mail for a domain goes: its {@code etrnRelay} from atrn.xml, else its MX
 * hosts (RFC 5321 section 5.1), leaving out every address of this server, where the mail would
 * only be parked again.
 */
@Singleton
public class EtrnTargets {
    private static final Logger LOGGER = LoggerFactory.getLogger(EtrnTargets.class);
    private static final int SMTP_PORT = 25;

    /** No address to deliver to; the message is the text for the ETRN client and the log. */
    static final class Unroutable extends Exception {
        private static final long serialVersionUID = 1L;

        Unroutable(String message) {
            super(message);
        }
    }

    private final AtrnConfiguration configuration;
    private final DNSService dns;

    @Inject
    public EtrnTargets(AtrnConfiguration configuration, DNSService dns) {
        this.configuration = configuration;
        this.dns = dns;
    }

    /** Where ETRN mail for the domain goes, most preferred first. */
    List<InetSocketAddress> of(Domain domain) throws Unroutable {
        Optional<HostAndPort> relay = configuration.domain(domain).flatMap(AtrnDomain::etrnRelay);
        if (relay.isPresent()) {
            // Configured by the operator: trusted even when it is a local address (a test sink, a
            // tunnel); one that leads back to this James is caught by its greeting or EHLO reply.
            List<InetSocketAddress> targets = new ArrayList<>();
            for (InetAddress address : resolve(relay.get().getHost(), domain)) {
                targets.add(new InetSocketAddress(address, relay.get().getPort()));
            }
            return targets;
        }
        Collection<String> exchangers;
        try {
            exchangers = dns.findMXRecords(domain.asString());
        } catch (Exception e) {
            throw new Unroutable("the MX hosts of " + domain.asString() + " cannot be looked up now (" + e.getMessage() + ")");
        }
        List<InetSocketAddress> targets = new ArrayList<>();
        boolean pointsHere = false;
        for (String exchanger : exchangers) {
            for (InetAddress address : resolveQuietly(exchanger)) {
                if (isThisServer(address)) {
                    pointsHere = true;
                } else {
                    targets.add(new InetSocketAddress(address, SMTP_PORT));
                }
            }
        }
        if (targets.isEmpty()) {
            throw new Unroutable(pointsHere
                ? "the MX hosts of " + domain.asString() + " are this server; set <etrnRelay> for it in conf/atrn.xml"
                : "no MX host of " + domain.asString() + " resolves; set <etrnRelay> for it in conf/atrn.xml");
        }
        return targets;
    }

    private Collection<InetAddress> resolve(String host, Domain domain) throws Unroutable {
        try {
            return dns.getAllByName(host);
        } catch (Exception e) {
            throw new Unroutable("etrnRelay " + host + " of " + domain.asString() + " does not resolve");
        }
    }

    private Collection<InetAddress> resolveQuietly(String host) {
        try {
            return dns.getAllByName(host);
        } catch (Exception e) {
            LOGGER.debug("MX host {} does not resolve: {}", host, e.getMessage());
            return List.of();
        }
    }

    /** Delivering there would hand the mail back to ourselves, where it would be parked again. */
    private static boolean isThisServer(InetAddress address) {
        if (address.isAnyLocalAddress() || address.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
