package dev.jamesatrn.drain;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.core.Domain;
import org.apache.james.protocols.api.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.net.HostAndPort;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.config.AtrnDomain;
import dev.jamesatrn.smtp.OdmrReplies;
import dev.jamesatrn.smtp.OutboundConnection;
import dev.jamesatrn.smtp.SmtpPeer;

/**
 * The outbound half of ETRN: where a domain's mail goes (its {@code etrnRelay}, else its MX
 * hosts), the RFC 1985 reply, then delivery over new connections with the same
 * {@link ParkedMailClient} as ATRN. Runs on ETRN threads only ({@link OdmrSessions#submitEtrn}):
 * DNS, claim and storage I/O.
 *
 * <p>Nothing is claimed for the reply: a domain is claimed only once a host has greeted and
 * accepted EHLO for it, and given back as soon as its delivery ends, one domain at a time, so
 * an {@code ETRN @suffix} towards an unreachable or silent relay holds no domain an ATRN
 * customer is asking for. A domain is queued for ETRN delivery in this JVM at most once.
 *
 * <p>A loop is remembered per address (host and port), never per domain: anyone may send ETRN,
 * and one address of a domain's route that leads back here (NAT, a backup MX that is this server)
 * must not keep the domain's mail from its other addresses, such as the customer's own host once
 * it is up again.
 */
@Singleton
public class EtrnDelivery {
    private static final Logger LOGGER = LoggerFactory.getLogger(EtrnDelivery.class);
    // Postfix's smtp_connect_timeout: an unreachable MX must not hold an ETRN thread for minutes.
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    // How long an address found to lead back to this server is skipped without trying it again
    // (a changed etrnRelay or MX gives new addresses, which are tried at once).
    private static final Duration LOOP_MEMORY = Duration.ofMinutes(10);
    // Addresses come from atrn.xml and the DNS of ATRN domains; this bounds a DNS that keeps changing.
    private static final int MAX_REMEMBERED_LOOPS = 10_000;

    /** The reply for the ETRN client, and the domains queued for delivery. */
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

    }

    /** One domain to deliver; it stays queued (see {@link #deliver}) until its delivery ends. */
    public static final class Job {
        private final Domain domain;
        private final List<InetSocketAddress> targets;
        private final String sessionId;

        public Job(Domain domain, List<InetSocketAddress> targets, String sessionId) {
            this.domain = domain;
            this.targets = targets;
            this.sessionId = sessionId;
        }

        public Domain domain() {
            return domain;
        }

        public List<InetSocketAddress> targets() {
            return targets;
        }

        public String sessionId() {
            return sessionId;
        }

    }

    /** Why a domain of the ETRN does not go out now; loops get their own RFC 3463 code. */
    private static final class Problem {
        private final String text;
        private final boolean loop;

        Problem(String text, boolean loop) {
            this.text = text;
            this.loop = loop;
        }
    }

    private final AtrnConfiguration configuration;
    private final Drains drains;
    private final DomainLeases leases;
    private final EtrnTargets targets;
    private final OdmrSessions sessions;
    private final Set<Domain> queued = ConcurrentHashMap.newKeySet();
    // Address that led back to this server -> what gave it away (for the log).
    private final Cache<InetSocketAddress, String> loops = CacheBuilder.newBuilder()
        .maximumSize(MAX_REMEMBERED_LOOPS)
        .expireAfterWrite(LOOP_MEMORY.toMillis(), TimeUnit.MILLISECONDS)
        .build();

    @Inject
    public EtrnDelivery(AtrnConfiguration configuration, Drains drains, DomainLeases leases, EtrnTargets targets,
                        OdmrSessions sessions) {
        this.configuration = configuration;
        this.drains = drains;
        this.leases = leases;
        this.targets = targets;
        this.sessions = sessions;
    }

    /**
     * 253 with the number of messages whose delivery starts, 251 when none waits, 458 when
     * nothing can start (no route, every address of the route known to lead back to this server,
     * drained or queued already, store unreadable). Domains of an "@" ETRN that cannot start are
     * logged and skipped while the others go ahead. Addresses known to lead back here are left out
     * of a job. The jobs returned are queued: hand them to {@link #deliver}.
     */
    public Started start(String nodeText, List<Domain> domains, String sessionId) {
        List<Job> jobs = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        long pending = 0;
        for (Domain domain : domains) {
            if (!queued.add(domain)) {
                problems.add(new Problem(DomainLeases.isBusy(domain, DomainLeases.Purpose.ETRN.busyText()), false));
                continue;
            }
            boolean isJob = false;
            try {
                Optional<String> holder;
                try {
                    holder = leases.holderOf(domain);
                } catch (RuntimeException e) {
                    LOGGER.error("Cannot read the claim on {} for ETRN", domain.asString(), e);
                    problems.add(new Problem(DomainLeases.cannotCheck(domain), false));
                    continue;
                }
                if (holder.isPresent()) {
                    problems.add(new Problem(DomainLeases.isBusy(domain, DomainLeases.busyTextOf(holder.get())), false));
                    continue;
                }
                long count = drains.count(domain);
                if (count == 0) {
                    continue;
                }
                List<InetSocketAddress> notKnownToLoop = targets.of(domain).stream()
                    .filter(target -> loops.getIfPresent(target) == null)
                    .collect(Collectors.toUnmodifiableList());
                if (notKnownToLoop.isEmpty()) {
                    problems.add(new Problem(loopText(domain), true));
                    continue;
                }
                jobs.add(new Job(domain, notKnownToLoop, sessionId));
                pending += count;
                isJob = true;
            } catch (EtrnTargets.Unroutable | Drains.Refused e) {
                problems.add(new Problem(e.getMessage(), false));
            } catch (Exception e) {
                LOGGER.error("Cannot read parked mail of {}", domain.asString(), e);
                problems.add(new Problem("parked mail of " + domain.asString() + " cannot be read now", false));
            } finally {
                if (!isJob) {
                    queued.remove(domain);
                }
            }
        }
        problems.forEach(problem -> LOGGER.warn("ETRN {}: {}", nodeText, problem.text));
        if (!jobs.isEmpty()) {
            return new Started(OdmrReplies.etrnStarted(pending, nodeText), jobs);
        }
        if (!problems.isEmpty()) {
            String why = problems.stream().map(problem -> problem.text).collect(Collectors.joining("; "));
            boolean onlyLoops = problems.stream().allMatch(problem -> problem.loop);
            return new Started(onlyLoops ? OdmrReplies.etrnLoops(nodeText, why) : OdmrReplies.etrnCannotQueue(nodeText, why), jobs);
        }
        return new Started(OdmrReplies.etrnNothingWaiting(nodeText), jobs);
    }

    /**
     * Delivers each job over a new connection, trying its targets in order, one domain at a
     * time; every job leaves the queue, whatever happens to the others.
     */
    public void deliver(List<Job> jobs, String helloName) {
        try {
            for (Job job : jobs) {
                try {
                    deliver(job, helloName);
                } catch (RuntimeException e) {
                    LOGGER.error("ETRN delivery of {} failed; unacknowledged mail stays parked", job.domain().asString(), e);
                } finally {
                    queued.remove(job.domain());
                }
            }
        } finally {
            jobs.forEach(job -> queued.remove(job.domain()));
        }
    }

    private void deliver(Job job, String helloName) {
        String domain = job.domain().asString();
        List<String> failures = new ArrayList<>();
        int loopsBack = 0;
        for (InetSocketAddress target : job.targets()) {
            String known = loops.getIfPresent(target);
            if (known != null) {
                // found by another delivery since this one was queued
                loopsBack++;
                failures.add(name(target) + ": " + known);
                continue;
            }
            OutboundConnection connection;
            try {
                connection = OutboundConnection.connect(target, CONNECT_TIMEOUT, sessions.watchdogs());
            } catch (SmtpPeer.Broken e) {
                failures.add(e.getMessage());
                continue;
            }
            ClaimAfterHello claim = new ClaimAfterHello(job);
            ParkedMailClient.Outcome outcome;
            try {
                outcome = drains.drain(connection, claim, helloName, false);
            } finally {
                claim.release();
            }
            LOGGER.info("ETRN delivery domain={} host={} tls={} delivered={} deferred={} bounced={} bytes={}{}", domain,
                connection.peerName(), connection.isTls(), outcome.delivered(), outcome.deferred(), outcome.bounced(),
                outcome.bytes(), outcome.brokenBecause().map(why -> " ended early: " + why).orElse(""));
            if (outcome.loopsBack()) {
                // The next address may still be someone else (RFC 5321 section 5.1).
                String why = outcome.brokenBecause().orElse("a name of this server");
                loops.put(target, why);
                loopsBack++;
                failures.add(name(target) + ": " + why);
                LOGGER.warn("ETRN target {} of {} leads back to this server ({}); it is skipped for {} min, other "
                    + "addresses of the domain (if any) are still tried", name(target), domain, why, LOOP_MEMORY.toMinutes());
                continue;
            }
            if (claim.refused) {
                return; // someone else drains the domain now
            }
            boolean nothingHappened = outcome.delivered() + outcome.deferred() + outcome.bounced() == 0;
            if (outcome.brokenBecause().isPresent() && nothingHappened) {
                // e.g. a 421 greeting, a refused EHLO or a failed TLS handshake: the next MX may do
                // better (RFC 5321 section 5.1), and nothing was sent that could be duplicated.
                failures.add(connection.peerName() + ": " + outcome.brokenBecause().get());
                continue;
            }
            return;
        }
        if (loopsBack == job.targets().size()) {
            // Every address of the domain (the others were skipped as known loops when queued).
            LOGGER.warn("ETRN delivery of {}: {}; nothing was sent and the mail stays parked ({})", domain, loopText(job.domain()),
                String.join("; ", failures));
            return;
        }
        LOGGER.warn("ETRN delivery of {}: no host took a session ({}); the mail stays parked", domain, String.join("; ", failures));
    }

    private static String name(InetSocketAddress target) {
        return HostAndPort.fromParts(target.getAddress().getHostAddress(), target.getPort()).toString();
    }

    /**
     * When every address of the domain leads back here: the loop, and the fix (the operator's
     * etrnRelay, or the DNS, which an etrnRelay routes around). The ETRN client (anyone) is told
     * this, not where the relay is.
     */
    private String loopText(Domain domain) {
        boolean relayed = configuration.domain(domain).flatMap(AtrnDomain::etrnRelay).isPresent();
        return "mail for " + domain.asString() + " loops back to myself; " + (relayed
            ? "every address of <etrnRelay> of " + domain.asString() + " in conf/atrn.xml leads back to this server: "
                + "point it at the customer's own MTA"
            : "every MX host of " + domain.asString() + " leads back to this server: set <etrnRelay> for it in conf/atrn.xml");
    }

    /** The job's claim, taken once the host accepted EHLO, given back when its drain ends. */
    private final class ClaimAfterHello implements ParkedMailClient.Claimer {
        private final Job job;
        private DomainLeases.DomainLease lease;
        private boolean refused;

        ClaimAfterHello(Job job) {
            this.job = job;
        }

        @Override
        public DomainLeases.DomainLease claim() throws SmtpPeer.Broken {
            List<Domain> domains = List.of(job.domain());
            Optional<DomainLeases.DomainLease> claimed;
            try {
                claimed = leases.claim(domains, DomainLeases.Purpose.ETRN, job.sessionId());
            } catch (DomainLeases.Unavailable e) {
                LOGGER.error("Cannot claim {} for ETRN", job.domain().asString(), e.getCause());
                refused = true;
                throw new SmtpPeer.Broken(e.getMessage());
            }
            if (claimed.isEmpty()) {
                refused = true;
                throw new SmtpPeer.Broken(leases.busy(job.domain()) + "; it is left to that drainer");
            }
            lease = claimed.get();
            return lease;
        }

        void release() {
            if (lease != null) {
                lease.close();
            }
        }
    }
}
