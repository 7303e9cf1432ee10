package dev.jamesatrn.extension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.apache.james.core.Domain;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.drain.EtrnDelivery;
import dev.jamesatrn.drain.OdmrSessions;
import dev.jamesatrn.smtp.LoopHandback;
import dev.jamesatrn.smtp.OdmrReplies;
import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.smtp.WritesNoLines;
import dev.jamesatrn.smtpserver.EtrnRateLimit;
import dev.jamesatrn.smtpserver.OdmrSessionLog;

/**
 * ETRN (RFC 1985) for ATRN domains, on the ordinary SMTP port and on the ODMR port: the domain's
 * parked mail goes out over a NEW connection to its MX (or its configured {@code etrnRelay}),
 * under the same claim as ATRN, so ETRN and ATRN never drain one domain at once and a customer
 * can use either. Syntax and policy (500/501/459) are decided here on the event loop; the claim,
 * the count and the DNS lookup happen on an ETRN delivery thread ({@link OdmrSessions#submitEtrn}); the 251/253/458 is written on the
 * connection's event loop ({@link LoopHandback}), with the answers to any lines pipelined behind
 * ETRN, so no reply can overtake the ETRN's.
 */
public class EtrnCmdHandler implements CommandHandler<SMTPSession>, EhloExtension {
    private static final Logger LOGGER = LoggerFactory.getLogger(EtrnCmdHandler.class);

    /**
     * What the handler returns while the ETRN thread prepares the real reply: it writes no
     * byte, and its non-empty code keeps James's JMX result monitors working (they read the
     * first character of the code of every response a command handler returns).
     */
    private static final Response REPLY_FOLLOWS = (WritesNoLines) () -> "250";

    private final AtrnConfiguration configuration;
    private final OdmrSessions sessions;
    private final EtrnDelivery delivery;
    private final AtrnMetrics metrics;
    private final EtrnRateLimit rateLimit;

    @Inject
    public EtrnCmdHandler(AtrnConfiguration configuration, OdmrSessions sessions, EtrnDelivery delivery, AtrnMetrics metrics,
                          EtrnRateLimit rateLimit) {
        this.configuration = configuration;
        this.sessions = sessions;
        this.delivery = delivery;
        this.metrics = metrics;
        this.rateLimit = rateLimit;
    }

    @Override
    public Collection<String> getImplCommands() {
        return List.of("ETRN");
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return List.of("ETRN");
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        Response reply = decide(session, request);
        if (reply != REPLY_FOLLOWS) {
            metrics.etrnReply(reply.getRetCode());
        }
        return reply;
    }

    /** A reply decided without I/O, or {@link #REPLY_FOLLOWS} once an ETRN thread took the ETRN on. */
    private Response decide(SMTPSession session, Request request) {
        String argument = Optional.ofNullable(request.getArgument()).map(String::trim).orElse("");
        if (argument.isEmpty() || argument.contains(" ")) {
            return OdmrReplies.ETRN_SYNTAX;
        }
        if (session.getAttachment(SMTPSession.SENDER, ProtocolSession.State.Transaction).isPresent()) {
            return OdmrReplies.ETRN_IN_TRANSACTION;
        }
        if (argument.startsWith("#")) {
            return OdmrReplies.etrnNotAllowed(SmtpPeer.abbreviate(argument), "queue names are not supported here");
        }
        boolean withSubdomains = argument.startsWith("@");
        Optional<Domain> node = AtrnConfiguration.normalizeDomain(withSubdomains ? argument.substring(1) : argument);
        if (node.isEmpty()) {
            return OdmrReplies.ETRN_SYNTAX;
        }
        String nodeText = (withSubdomains ? "@" : "") + node.get().asString();
        List<Domain> domains = matching(node.get(), withSubdomains);
        if (domains.isEmpty()) {
            return OdmrReplies.etrnNotAllowed(nodeText, "mail for it is not held here for ETRN or ATRN");
        }
        Optional<Duration> wait = rateLimit.tryAcquire(session.getRemoteAddress().getAddress());
        if (wait.isPresent()) {
            return OdmrReplies.etrnTooMany(nodeText, rateLimit.max(), rateLimit.window(), wait.get().toSeconds() + 1);
        }
        ProtocolTransport transport = ((ProtocolSessionImpl) session).getProtocolTransport();
        HeldBack heldBack = new HeldBack();
        session.pushLineHandler((LineHandler<SMTPSession>) (s, line) -> heldBack.offer(new String(line, StandardCharsets.US_ASCII).trim()));
        transport.setReadable(false);
        String helloName = session.getConfiguration().getHelloName();
        LoopHandback handback = LoopHandback.ofCurrentLoop();
        boolean submitted = sessions.submitEtrn(() -> serve(session, transport, handback, heldBack, nodeText, domains, helloName));
        if (!submitted) {
            session.popLineHandler();
            transport.setReadable(true);
            return OdmrReplies.etrnBusy(nodeText);
        }
        return REPLY_FOLLOWS;
    }

    /** The domain itself, or with "@" (RFC 1985 section 5.3) every ATRN domain that ends with it. */
    private List<Domain> matching(Domain node, boolean withSubdomains) {
        if (!withSubdomains) {
            return configuration.isAtrnDomain(node) ? List.of(node) : List.of();
        }
        String suffix = "." + node.asString();
        return configuration.domains().stream()
            .filter(domain -> domain.equals(node) || domain.asString().endsWith(suffix))
            .sorted((a, b) -> a.asString().compareTo(b.asString()))
            .collect(Collectors.toUnmodifiableList());
    }

    /**
     * Lines the client pipelined behind ETRN: kept, to be answered after the ETRN reply, in order.
     * Only the event loop touches it (offer from the line handler, takeAll from the handback).
     */
    private static final class HeldBack {
        private final List<String> lines = new ArrayList<>();

        Response offer(String line) {
            lines.add(line);
            return null;
        }

        List<String> takeAll() {
            List<String> all = List.copyOf(lines);
            lines.clear();
            return all;
        }
    }

    private void serve(SMTPSession session, ProtocolTransport transport, LoopHandback handback, HeldBack heldBack,
                       String nodeText, List<Domain> domains, String helloName) {
        EtrnDelivery.Started started;
        try {
            started = delivery.start(nodeText, domains, session.getSessionID());
        } catch (RuntimeException e) {
            LOGGER.error("ETRN {} failed before delivery started", nodeText, e);
            started = new EtrnDelivery.Started(OdmrReplies.etrnCannotQueue(nodeText, "internal error, try again later"), List.of());
        }
        // The jobs are queued from here on: delivered (or given up) whatever happens to the reply.
        try {
            metrics.etrnReply(started.reply().getRetCode());
            Response reply = started.reply();
            handback.run(() -> {
                try {
                    transport.writeResponse(reply, session);
                    if (LoopHandback.answerEarlyLines(session, heldBack.takeAll(), "ETRN")) {
                        session.popLineHandler();
                        transport.setReadable(true);
                    }
                } catch (RuntimeException e) {
                    LOGGER.debug("The ETRN client left before its reply: {}", e.getMessage());
                }
            });
            LOGGER.info("ETRN {} from {}: {}", nodeText, OdmrSessionLog.remoteAddress(session), reply.getLines().get(0));
        } finally {
            delivery.deliver(started.jobs(), helloName);
        }
    }
}
