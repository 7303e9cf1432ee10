package dev.jamesatrn.smtpserver;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.apache.james.core.Domain;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.api.handler.DisconnectHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.drain.Drains;
import dev.jamesatrn.drain.OdmrSessions;
import dev.jamesatrn.drain.ParkedMailExpiry;
import dev.jamesatrn.smtp.CustomerConnection;
import dev.jamesatrn.smtp.LoopHandback;
import dev.jamesatrn.smtp.OdmrReplies;
import dev.jamesatrn.smtp.SmtpPeer;

/**
 * ATRN (RFC 2645 section 5.2.1). Everything that needs no I/O is decided here on the event loop
 * (530, 501, 450); the claim (which may be a network call to a cluster-wide store), reading the
 * store and the reversed session run on an ODMR session thread, which writes the reply itself.
 */
public class AtrnCmdHandler implements CommandHandler<SMTPSession>, EhloExtension, DisconnectHandler<SMTPSession> {
    private static final Logger LOGGER = LoggerFactory.getLogger(AtrnCmdHandler.class);
    private static final ProtocolSession.AttachmentKey<CustomerConnection> REVERSED =
        ProtocolSession.AttachmentKey.of("atrn.reversed", CustomerConnection.class);
    private static final int MAX_DOMAINS = 100;

    private final AtrnConfiguration configuration;
    private final DomainLeases leases;
    private final Drains drains;
    private final OdmrSessions sessions;
    private final AtrnMetrics metrics;
    private final Map<String, Instant> lastAtrn = new ConcurrentHashMap<>();

    /** {@code expiry} is only injected: that creates it, and so starts the parked-mail sweep, with the ODMR port. */
    @Inject
    public AtrnCmdHandler(AtrnConfiguration configuration, DomainLeases leases, Drains drains, OdmrSessions sessions,
                          AtrnMetrics metrics, ParkedMailExpiry expiry) {
        this.configuration = configuration;
        this.leases = leases;
        this.drains = drains;
        this.sessions = sessions;
        this.metrics = metrics;
    }

    @Override
    public Collection<String> getImplCommands() {
        return List.of("ATRN");
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return List.of("ATRN");
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        String argument = Optional.ofNullable(request.getArgument()).map(String::trim).orElse("");
        OdmrSessionLog.of(session).ifPresent(entry -> entry.atrnRequested(argument.isEmpty() ? "(all)" : SmtpPeer.abbreviate(argument)));
        Response refusal = decide(session, request);
        if (refusal != null) {
            metrics.atrnReply(refusal.getRetCode());
            OdmrSessionLog.of(session).ifPresent(entry -> entry.replied(refusal.getRetCode()));
        }
        return refusal;
    }

    /** A refusal decided without I/O, or null once the session thread took the ATRN on. */
    private Response decide(SMTPSession session, Request request) {
        if (session.getUsername() == null) {
            return OdmrReplies.ATRN_AUTH_REQUIRED;
        }
        String login = session.getUsername().asString();
        List<Domain> domains;
        String argument = Optional.ofNullable(request.getArgument()).map(String::trim).orElse("");
        if (argument.isEmpty()) {
            domains = configuration.domainsClaimableBy(login);
            if (domains.isEmpty()) {
                return OdmrReplies.atrnNotAuthorized("any domain");
            }
        } else {
            Set<Domain> requested = new LinkedHashSet<>();
            List<String> items = List.of(argument.split(",", -1));
            if (items.size() > MAX_DOMAINS) {
                return OdmrReplies.atrnSyntax("at most " + MAX_DOMAINS + " domains per ATRN");
            }
            for (String item : items) {
                Optional<Domain> domain = AtrnConfiguration.normalizeDomain(item);
                if (domain.isEmpty() || !item.equals(item.strip())) {
                    return OdmrReplies.atrnSyntax("'" + SmtpPeer.abbreviate(item) + "' is not a domain name");
                }
                requested.add(domain.get());
            }
            domains = new ArrayList<>(requested);
        }
        // RFC 2645: access to ALL listed domains, or 450 and nothing for any of them.
        for (Domain domain : domains) {
            if (!configuration.mayClaim(login, domain)) {
                LOGGER.info("ATRN refused: login '{}' may not claim {}", login, domain.asString());
                return OdmrReplies.atrnNotAuthorized(domain.asString());
            }
        }
        Optional<Response> tooSoon = tooSoon(login);
        if (tooSoon.isPresent()) {
            return tooSoon.get();
        }
        boolean recordPerLine = configuration.tlsRecordPerLine().appliesTo(session.isTLSStarted(),
            ((ProtocolSessionImpl) session).getProtocolTransport().isStartTLSSupported());
        CustomerConnection customer = new CustomerConnection(session, recordPerLine);
        // Only the event loop touches session attachments (James keeps them in a HashMap): set
        // here, read by onDisconnect, replaced by the next ATRN, never removed by the session thread.
        session.setAttachment(REVERSED, customer, ProtocolSession.State.Connection);
        customer.startListening();
        List<Domain> claimed = List.copyOf(domains);
        OdmrSessionLog.Entry entry = OdmrSessionLog.of(session).orElseGet(() -> new OdmrSessionLog.Entry(OdmrSessionLog.remoteAddress(session)));
        entry.atrnStarted(claimed.stream().map(Domain::asString).collect(Collectors.joining(",")));
        LoopHandback handback = LoopHandback.ofCurrentLoop();
        if (!sessions.submit(() -> serve(session, customer, handback, claimed, entry))) {
            customer.stopListening();
            entry.atrnEnded();
            return OdmrReplies.ATRN_BUSY;
        }
        return null; // the session thread writes the ATRN reply
    }

    private void serve(SMTPSession session, CustomerConnection customer, LoopHandback handback, List<Domain> requested,
                       OdmrSessionLog.Entry entry) {
        String login = session.getUsername().asString();
        String domains = requested.stream().map(Domain::asString).collect(Collectors.joining(","));
        String code = "451";
        Optional<DomainLeases.DomainLease> claim = Optional.empty();
        try {
            Response refusal;
            try {
                claim = leases.claim(requested, DomainLeases.Purpose.ATRN, session.getSessionID());
                refusal = claim.isEmpty() ? OdmrReplies.atrnCannotCheck(leases.busy(requested))
                    // RFC 2645 5.2.1: 453 when no listed domain has mail
                    : drains.count(requested) == 0 ? OdmrReplies.ATRN_NO_MAIL : null;
            } catch (DomainLeases.Unavailable e) {
                LOGGER.error("Cannot claim {} for ATRN", domains, e.getCause());
                refusal = OdmrReplies.atrnCannotCheck(e.getMessage());
            } catch (Drains.Refused e) {
                refusal = OdmrReplies.atrnCannotCheck(e.getMessage());
            }
            if (refusal != null) {
                code = refusal.getRetCode();
                // Released before the reply goes out, so an immediate retry finds the domain free.
                claim.ifPresent(DomainLeases.DomainLease::close);
                // Recorded before the reply goes out: the client's next command may be answered
                // (and recorded) by the event loop as soon as it has this one.
                entry.replied(code);
                Response finalRefusal = refusal;
                handback.run(() -> {
                    try {
                        customer.stopListening();
                        List<String> early = customer.takePending();
                        customer.reply(finalRefusal);
                        if (!early.isEmpty()) {
                            LOGGER.warn("{} line(s) were sent before the ATRN reply; each got 503 (QUIT: 221)", early.size());
                            LoopHandback.answerEarlyLines(session, early, "ATRN");
                        }
                    } catch (RuntimeException e) {
                        // James 3.8.1 throws when the channel is already torn down: nobody is left to answer
                        LOGGER.debug("The ATRN client left before its reply: {}", e.getMessage());
                    }
                });
                return;
            }
            code = "250";
            remember(login);
            entry.replied(code);
            // queued on the event loop ahead of the 250 itself
            handback.run(customer::reversing);
            customer.reply(OdmrReplies.ATRN_REVERSING);
            DomainLeases.DomainLease lease = claim.get();
            entry.drained(drains.drain(customer, () -> lease, session.getConfiguration().getHelloName(), true));
        } catch (RuntimeException e) {
            LOGGER.error("ATRN session for {} failed; unacknowledged mail stays parked", domains, e);
            customer.close();
        } finally {
            claim.ifPresent(DomainLeases.DomainLease::close);
            metrics.atrnReply(code);
            entry.atrnEnded();
        }
    }

    /** RFC 2645 5.2.1: ATRN repeated within {@code minAtrnInterval} MAY get 450 (off by default). */
    private Optional<Response> tooSoon(String login) {
        Optional<Duration> interval = configuration.policies().minAtrnInterval();
        Instant previous = lastAtrn.get(login);
        if (interval.isEmpty() || previous == null) {
            return Optional.empty();
        }
        Duration since = Duration.between(previous, Instant.now());
        if (since.compareTo(interval.get()) >= 0) {
            return Optional.empty();
        }
        return Optional.of(OdmrReplies.atrnTooSoon(interval.get().minus(since).toSeconds() + 1));
    }

    /**
     * Only an ATRN that reversed the session counts for the interval: a customer told 451 (try
     * again later) or 453 (no mail) must not be locked out when it asks again.
     */
    private void remember(String login) {
        if (configuration.policies().minAtrnInterval().isPresent()) {
            lastAtrn.put(login, Instant.now());
        }
    }

    @Override
    public void onDisconnect(SMTPSession session) {
        session.getAttachment(REVERSED, ProtocolSession.State.Connection).ifPresent(CustomerConnection::disconnected);
    }
}
