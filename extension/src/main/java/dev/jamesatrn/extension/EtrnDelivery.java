package dev.jamesatrn.extension;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.core.Domain;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.james.protocols.api.Response;
import org.apache.mailet.MailetContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.net.HostAndPort;

import dev.jamesatrn.mailets.AtrnConfiguration;
import dev.jamesatrn.mailets.AtrnMetrics;
import dev.jamesatrn.mailets.ParkedMailStore;

/**
 * The outbound half of ETRN: where a domain's mail goes (its {@code etrnRelay}, else its MX
 * hosts), the claim, the RFC 1985 reply, then delivery over new connections with the same
 * {@link ParkedMailClient} as ATRN. Runs on session threads only (DNS, claim and storage I/O).
 */
@Singleton
public class EtrnDelivery {
    private static final Logger LOGGER = LoggerFactory.getLogger(EtrnDelivery.class);
    // Postfix's smtp_connect_timeout: an unreachable MX must not hold the claim for minutes.
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final int SMTP_PORT = 25;

    /** The reply for the ETRN client, and the claimed domains still to deliver. */
    public static final class Started {
        private final Response reply;
        private final List<Job> jobs;

        public Started(Response reply, List<Job> jobs) {
            this.reply = reply;
            this.jobs = jobs;
        }

        public Response reply() {
            return reply;
        }

        public List<Job> jobs() {
            return jobs;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Started)) {
                return false;
            }
            Started other = (Started) o;
            return Objects.equals(reply, other.reply) && Objects.equals(jobs, other.jobs);
        }

        @Override
        public int hashCode() {
            return Objects.hash(reply, jobs);
        }

        @Override
        public String toString() {
            return "Started[reply=" + reply + ", jobs=" + jobs + "]";
        }
    }

    public static final class Job {
        private final DomainLeases.DomainLease lease;
        private final List<InetSocketAddress> targets;

        public Job(DomainLeases.DomainLease lease, List<InetSocketAddress> targets) {
            this.lease = lease;
            this.targets = targets;
        }

        public DomainLeases.DomainLease lease() {
            return lease;
        }

        public List<InetSocketAddress> targets() {
            return targets;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Job)) {
                return false;
            }
            Job other = (Job) o;
            return Objects.equals(lease, other.lease) && Objects.equals(targets, other.targets);
        }

        @Override
        public int hashCode() {
            return Objects.hash(lease, targets);
        }

        @Override
        public String toString() {
            return "Job[lease=" + lease + ", targets=" + targets + "]";
        }
    }

    private static final class Unroutable extends Exception {
        Unroutable(String message) {
            super(message);
        }
    }

    private final AtrnConfiguration configuration;
    private final ParkedMailStore store;
    private final DomainLeases leases;
    private final DNSService dns;
    private final MailetContext mailetContext;
    private final OdmrSessions sessions;
    private final AtrnMetrics metrics;

    @Inject
    public EtrnDelivery(AtrnConfiguration configuration, ParkedMailStore store, DomainLeases leases, DNSService dns,
                        MailetContext mailetContext, OdmrSessions sessions, AtrnMetrics metrics) {
        this.configuration = configuration;
        this.store = store;
        this.leases = leases;
        this.dns = dns;
        this.mailetContext = mailetContext;
        this.sessions = sessions;
        this.metrics = metrics;
    }

    /**
     * 253 with the number of messages whose delivery starts, 251 when none waits, 458 when
     * nothing can start (no route, claimed elsewhere, store unreadable). Domains of an "@" ETRN
     * that cannot start are logged and skipped while the others go ahead.
     */
    public Started start(String nodeText, List<Domain> domains, String sessionId) {
        List<Job> jobs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        long pending = 0;
        for (Domain domain : domains) {
            Optional<DomainLeases.DomainLease> lease;
            try {
                lease = leases.claimAll(List.of(domain), DomainLeases.Purpose.ETRN, sessionId);
            } catch (RuntimeException e) {
                LOGGER.error("Cannot claim {} for ETRN", domain.asString(), e);
                problems.add("the claim on " + domain.asString() + " cannot be taken now");
                continue;
            }
            if (lease.isEmpty()) {
                problems.add(domain.asString() + " is " + leases.busyText(domain).orElse("claimed by another drainer"));
                continue;
            }
            // Claimed first: the count and the route then describe what this drain will really do.
            try {
                long count = store.count(domain);
                if (count > 0) {
                    jobs.add(new Job(lease.get(), targets(domain)));
                    pending += count;
                    continue;
                }
            } catch (Unroutable e) {
                problems.add(e.getMessage());
            } catch (Exception e) {
                LOGGER.error("Cannot read parked mail of {}", domain.asString(), e);
                problems.add("parked mail of " + domain.asString() + " cannot be read now");
            }
            lease.get().close();
        }
        problems.forEach(problem -> LOGGER.warn("ETRN {}: {}", nodeText, problem));
        if (!jobs.isEmpty()) {
            return new Started(OdmrReplies.etrnStarted(pending, nodeText), jobs);
        }
        if (!problems.isEmpty()) {
            return new Started(OdmrReplies.etrnCannotQueue(nodeText, String.join("; ", problems)), jobs);
        }
        return new Started(OdmrReplies.etrnNothingWaiting(nodeText), jobs);
    }

    /** Delivers each job over a new connection, trying its targets in order; leases are released at the end. */
    public void deliver(List<Job> jobs, String helloName) {
        for (Job job : jobs) {
            try (DomainLeases.DomainLease lease = job.lease()) {
                deliver(lease, job.targets(), helloName);
            } catch (RuntimeException e) {
                LOGGER.error("ETRN delivery of {} failed; unacknowledged mail stays parked", job.lease().domains(), e);
            }
        }
    }

    private void deliver(DomainLeases.DomainLease lease, List<InetSocketAddress> targets, String helloName) {
        String domain = lease.domains().get(0).asString();
        List<String> failures = new ArrayList<>();
        for (InetSocketAddress target : targets) {
            OutboundConnection connection;
            try {
                connection = OutboundConnection.connect(target, CONNECT_TIMEOUT, sessions.watchdogs());
            } catch (SmtpPeer.Broken e) {
                failures.add(e.getMessage());
                continue;
            }
            TimeMetric timer = metrics.drainTimer();
            ParkedMailClient.Outcome outcome;
            try {
                outcome = new ParkedMailClient(connection, lease, configuration, store, mailetContext, helloName)
                    .withMetrics(metrics).withTransferSlots(sessions.transfers()).drain();
            } finally {
                timer.stopAndPublish();
            }
            LOGGER.info("ETRN delivery domain={} host={} tls={} delivered={} deferred={} bounced={} bytes={}{}", domain,
                connection.peerName(), connection.isTls(), outcome.delivered(), outcome.deferred(), outcome.bounced(),
                outcome.bytes(), outcome.brokenBecause().map(why -> " ended early: " + why).orElse(""));
            boolean nothingHappened = outcome.delivered() + outcome.deferred() + outcome.bounced() == 0;
            if (outcome.brokenBecause().isPresent() && nothingHappened) {
                // e.g. a 421 greeting, a refused EHLO or a failed TLS handshake: the next MX may do
                // better (RFC 5321 section 5.1), and nothing was sent that could be duplicated.
                failures.add(connection.peerName() + ": " + outcome.brokenBecause().get());
                continue;
            }
            return;
        }
        LOGGER.warn("ETRN delivery of {}: no host took a session ({}); the mail stays parked", domain, String.join("; ", failures));
    }

    /** Where ETRN mail for the domain goes, most preferred first. */
    private List<InetSocketAddress> targets(Domain domain) throws Unroutable {
        Optional<HostAndPort> relay = configuration.domain(domain).flatMap(AtrnConfiguration.AtrnDomain::etrnRelay);
        if (relay.isPresent()) {
            // Configured by the operator: trusted even when it is a local address (a test sink, a tunnel).
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
