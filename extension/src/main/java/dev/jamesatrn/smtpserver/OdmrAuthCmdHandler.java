package dev.jamesatrn.smtpserver;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import javax.inject.Inject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

import org.apache.james.core.Username;
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
import dev.jamesatrn.drain.OdmrSessions;
import dev.jamesatrn.smtp.LoopHandback;
import dev.jamesatrn.smtp.OdmrReplies;

/**
 * AUTH on the ODMR port (RFC 4954, RFC 2645 section 5.1.2). James 3.8.1's AuthCmdHandler has no
 * CRAM-MD5, which RFC 2645 makes mandatory and which fetchmail insists on, so this port has its
 * own AUTH. CRAM-MD5 is the JDK's SASL server; the JDK has no PLAIN or LOGIN server, so those two
 * (a base64 decode and a comparison) are written here. Credentials are the ODMR logins of
 * {@code atrn.xml}: CRAM-MD5 needs the secret itself, which James's hashed users repository
 * cannot give.
 */
public class OdmrAuthCmdHandler implements CommandHandler<SMTPSession>, EhloExtension {
    private static final Logger LOGGER = LoggerFactory.getLogger(OdmrAuthCmdHandler.class);
    private static final String CRAM_MD5 = "CRAM-MD5";
    private static final String PLAIN = "PLAIN";
    private static final String LOGIN = "LOGIN";
    private static final String CANCEL = "*";
    private static final int MAX_FAILURES_PER_CONNECTION = 3;
    private static final ProtocolSession.AttachmentKey<Integer> FAILURES =
        ProtocolSession.AttachmentKey.of("atrn.authFailures", Integer.class);

    private final AtrnConfiguration configuration;
    private final OdmrSessions sessions;
    private final AuthFailureLimits limits;

    @Inject
    public OdmrAuthCmdHandler(AtrnConfiguration configuration, OdmrSessions sessions, AuthFailureLimits limits) {
        this.configuration = configuration;
        this.sessions = sessions;
        this.limits = limits;
    }

    @Override
    public Collection<String> getImplCommands() {
        return List.of("AUTH");
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        // RFC 2645 5.1.2: CRAM-MD5 MUST be offered; listed first so it is preferred.
        return List.of(clearTextAllowed(session) ? "AUTH CRAM-MD5 PLAIN LOGIN" : "AUTH CRAM-MD5");
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        if (session.getUsername() != null) {
            return OdmrReplies.AUTH_ALREADY;
        }
        String argument = Optional.ofNullable(request.getArgument()).map(String::trim).orElse("");
        if (argument.isEmpty()) {
            return OdmrReplies.AUTH_NO_MECHANISM;
        }
        Optional<AuthFailureLimits.Refused> refused = limits.refusalOf(session.getRemoteAddress().getAddress());
        if (refused.isPresent()) {
            return throttled(refused.get());
        }
        String[] parts = argument.split("\\s+", 2);
        String mechanism = parts[0].toUpperCase(Locale.ROOT);
        Optional<String> initialResponse = parts.length > 1 ? Optional.of(parts[1]) : Optional.empty();
        switch (mechanism) {
            case CRAM_MD5:
                if (initialResponse.isPresent()) {
                    // RFC 4954 section 4: a mechanism whose client does not speak first
                    return OdmrReplies.AUTH_NO_INITIAL_RESPONSE;
                }
                return startCramMd5(session);
            case PLAIN:
                if (!clearTextAllowed(session)) {
                    return OdmrReplies.AUTH_NEEDS_TLS;
                }
                // not Optional.map: a delayed failure is a null Response
                if (initialResponse.isPresent()) {
                    return finishPlain(session, initialResponse.get());
                }
                return challenge(session, "", response -> finishPlain(session, response));
            case LOGIN:
                if (!clearTextAllowed(session)) {
                    return OdmrReplies.AUTH_NEEDS_TLS;
                }
                if (initialResponse.isPresent()) {
                    return askPassword(session, initialResponse.get());
                }
                return challenge(session, base64("Username:"), user -> askPassword(session, user));
            default:
                return OdmrReplies.AUTH_UNKNOWN_MECHANISM;
        }
    }

    private boolean clearTextAllowed(SMTPSession session) {
        return session.isTLSStarted() || configuration.allowPlainAuthWithoutTls();
    }

    private Response startCramMd5(SMTPSession session) {
        AtomicReference<String> login = new AtomicReference<>();
        SaslServer server;
        byte[] challenge;
        try {
            server = Sasl.createSaslServer(CRAM_MD5, "smtp", session.getConfiguration().getHelloName(), Map.of(),
                callbacks -> supplySecret(callbacks, login));
            challenge = server.evaluateResponse(new byte[0]);
        } catch (SaslException e) {
            LOGGER.error("The JDK refused to start a CRAM-MD5 exchange", e);
            return OdmrReplies.reply("454", "4.7.0 Temporary authentication failure");
        }
        return challenge(session, Base64.getEncoder().encodeToString(challenge), response -> {
            try {
                byte[] decoded = decode(response);
                // RFC 2195: "user SP digest"; the JDK takes everything before the first space as the user
                String text = new String(decoded, StandardCharsets.UTF_8);
                String user = text.indexOf(' ') < 0 ? text : text.substring(0, text.indexOf(' '));
                return authenticate(session, CRAM_MD5, user, canonical -> {
                    try {
                        server.evaluateResponse(decoded);
                        return server.isComplete()
                            && AtrnConfiguration.canonicalLogin(server.getAuthorizationID()).equals(Optional.of(canonical));
                    } catch (SaslException e) {
                        return false;
                    }
                });
            } catch (IllegalArgumentException e) {
                return OdmrReplies.AUTH_BAD_BASE64;
            } finally {
                disposeQuietly(server);
            }
        });
    }

    private void supplySecret(Callback[] callbacks, AtomicReference<String> login) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback) {
                NameCallback name = (NameCallback) callback;
                login.set(name.getDefaultName());
                name.setName(name.getDefaultName());
            } else if (callback instanceof PasswordCallback) {
                PasswordCallback password = (PasswordCallback) callback;
                // An unknown login gets no password: the JDK then fails the exchange.
                Optional.ofNullable(login.get())
                    .flatMap(configuration::secretOf)
                    .ifPresent(secret -> password.setPassword(secret.toCharArray()));
            } else if (callback instanceof AuthorizeCallback) {
                AuthorizeCallback authorize = (AuthorizeCallback) callback;
                boolean sameIdentity = authorize.getAuthenticationID().equals(authorize.getAuthorizationID());
                authorize.setAuthorized(sameIdentity);
                if (sameIdentity) {
                    authorize.setAuthorizedID(authorize.getAuthorizationID());
                }
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    private Response finishPlain(SMTPSession session, String response) {
        byte[] decoded;
        try {
            decoded = decode(response);
        } catch (IllegalArgumentException e) {
            return OdmrReplies.AUTH_BAD_BASE64;
        }
        // RFC 4616: [authzid] NUL authcid NUL passwd
        String[] fields = new String(decoded, StandardCharsets.UTF_8).split("\u0000", -1);
        if (fields.length != 3) {
            return failed(session);
        }
        String authzid = fields[0];
        String login = fields[1];
        if (!authzid.isEmpty() && !AtrnConfiguration.canonicalLogin(authzid).equals(AtrnConfiguration.canonicalLogin(login))) {
            return failed(session);
        }
        return verify(session, PLAIN, login, fields[2]);
    }

    private Response askPassword(SMTPSession session, String encodedUser) {
        String login;
        try {
            login = new String(decode(encodedUser), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return OdmrReplies.AUTH_BAD_BASE64;
        }
        return challenge(session, base64("Password:"), encodedPassword -> {
            try {
                return verify(session, LOGIN, login,
                    new String(decode(encodedPassword), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                return OdmrReplies.AUTH_BAD_BASE64;
            }
        });
    }

    private Response verify(SMTPSession session, String mechanism, String login, String password) {
        return authenticate(session, mechanism, login, canonical -> configuration.secretOf(canonical)
            .map(secret -> MessageDigest.isEqual(secret.getBytes(StandardCharsets.UTF_8), password.getBytes(StandardCharsets.UTF_8)))
            .orElse(false));
    }

    private interface Credentials {
        /** Whether the client proved it holds the secret of this (canonical) login. */
        boolean holdSecretOf(String canonicalLogin);
    }

    /**
     * Every mechanism ends here: the limits across connections first (past them, the credentials
     * are not even checked), then the check itself. {@code clientLogin} is as the client sent it,
     * so it is logged escaped.
     */
    private Response authenticate(SMTPSession session, String mechanism, String clientLogin, Credentials credentials) {
        InetAddress client = session.getRemoteAddress().getAddress();
        Optional<String> canonical = AtrnConfiguration.canonicalLogin(clientLogin);
        AuthFailureLimits.Attempt attempt = limits.begin(client, canonical);
        if (attempt.refused().isPresent()) {
            return throttled(attempt.refused().get());
        }
        if (canonical.isPresent() && credentials.holdSecretOf(canonical.get())) {
            attempt.succeeded();
            return succeed(session, canonical.get());
        }
        LOGGER.info("{} authentication failed for login '{}' from {}", mechanism, OdmrSessionLog.escaped(clientLogin),
            client.getHostAddress());
        return failed(session);
    }

    private static Response throttled(AuthFailureLimits.Refused refused) {
        return refused.refusal() == AuthFailureLimits.Refusal.ADDRESS
            ? OdmrReplies.authAddressThrottled(refused.retryAfterSeconds())
            : OdmrReplies.authLoginThrottled(refused.retryAfterSeconds());
    }

    /**
     * 535, after {@code authFailureDelay} to slow down password guessing; the third failure in
     * one connection gets 421 and the connection is closed. The wait is a timer, not a blocked
     * thread. Meanwhile the connection reads nothing, and lines the client had already pipelined
     * (RFC 4954 forbids pipelining after AUTH) are held back unanswered; if there were any, the
     * connection is closed after the reply, so no answer can overtake another. The timer hands
     * the reply to the connection's event loop ({@link LoopHandback}), as ATRN and ETRN do.
     */
    private Response failed(SMTPSession session) {
        int failures = session.getAttachment(FAILURES, ProtocolSession.State.Connection).orElse(0) + 1;
        session.setAttachment(FAILURES, failures, ProtocolSession.State.Connection);
        boolean last = failures >= MAX_FAILURES_PER_CONNECTION;
        Response reply = last ? OdmrReplies.AUTH_TOO_MANY_FAILURES : OdmrReplies.AUTH_FAILED;
        Duration delay = configuration.policies().authFailureDelay();
        if (delay.isZero()) {
            return reply;
        }
        ProtocolTransport transport = ((ProtocolSessionImpl) session).getProtocolTransport();
        AtomicInteger heldBack = new AtomicInteger();
        session.pushLineHandler((LineHandler<SMTPSession>) (s, line) -> {
            heldBack.incrementAndGet();
            return null;
        });
        transport.setReadable(false);
        LoopHandback handback = LoopHandback.ofCurrentLoop();
        sessions.later(delay, () -> handback.run(() -> {
            try {
                transport.writeResponse(reply, session);
                if (!last && heldBack.get() > 0) {
                    transport.writeResponse(OdmrReplies.AUTH_PIPELINED, session);
                } else if (!last) {
                    session.popLineHandler();
                    transport.setReadable(true);
                }
            } catch (RuntimeException e) {
                LOGGER.debug("Connection gone before its delayed AUTH reply: {}", e.getMessage());
            }
        }));
        return null;
    }

    private Response succeed(SMTPSession session, String canonicalLogin) {
        session.setUsername(Username.of(canonicalLogin));
        LOGGER.info("ODMR login '{}' authenticated from {}", OdmrSessionLog.escaped(canonicalLogin),
            session.getRemoteAddress().getAddress().getHostAddress());
        return OdmrReplies.AUTH_OK;
    }

    private interface Step {
        Response onResponse(String response);
    }

    /** Sends a 334 challenge; the next line is the client's answer (or "*" to cancel). */
    private Response challenge(SMTPSession session, String challenge, Step next) {
        session.pushLineHandler(new LineHandler<SMTPSession>() {
            @Override
            public Response onLine(SMTPSession s, byte[] line) {
                s.popLineHandler();
                String response = new String(line, StandardCharsets.US_ASCII).trim();
                if (response.equals(CANCEL)) {
                    return OdmrReplies.AUTH_CANCELLED;
                }
                return next.onResponse(response);
            }
        });
        return OdmrReplies.reply("334", challenge);
    }

    /** Strict: a response with characters outside the BASE64 alphabet gets 501, as RFC 4954 says. */
    private static byte[] decode(String response) {
        // RFC 4954 section 4: "=" is an empty initial response
        return response.equals("=") ? new byte[0] : Base64.getDecoder().decode(response);
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
    }

    private static void disposeQuietly(SaslServer server) {
        try {
            server.dispose();
        } catch (SaslException e) {
            LOGGER.debug("Ignoring SASL dispose failure", e);
        }
    }
}
