package dev.jamesatrn.extension.webadmin;

import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.inject.Inject;
import javax.inject.Provider;
import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.util.streams.Limit;
import org.apache.james.util.streams.Offset;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.utils.ErrorResponder;
import org.apache.james.webadmin.utils.ErrorResponder.ErrorType;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.apache.james.webadmin.utils.ParametersExtractor;
import org.apache.james.webadmin.utils.Responses;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.eclipse.jetty.http.HttpStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.drain.Bounces;
import dev.jamesatrn.drain.Drains;
import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.claims.DomainLeases.DomainLease;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.store.ParkedMailStore;
import spark.HaltException;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * WebAdmin routes for parked ATRN mail, listed in {@code conf/webadmin.properties} as
 * {@code extensions.routes}. James creates this class through our Guice child injector, so it
 * shares the extension's singletons (configuration, store, claims).
 *
 * <p>Reads need no claim: a message removed meanwhile is skipped (listings) or answered 404.
 * Every change holds the domain's claim for its whole duration, so it never races an ATRN or
 * ETRN drain or the expiry sweep; a busy domain gets 409 naming who holds it. Storage I/O here
 * runs on Jetty's request threads, never on a Netty event loop.
 */
public class AtrnRoutes implements Routes {
    private static final Logger LOGGER = LoggerFactory.getLogger(AtrnRoutes.class);
    private static final String DOMAINS = "/atrn/domains";
    private static final String DOMAIN = DOMAINS + "/:domain";
    private static final String MAILS = DOMAIN + "/mails";
    private static final String MAIL = MAILS + "/:key";
    private static final String RFC822 = "message/rfc822";
    private static final String BOUNCE = "bounce";
    // Names James and this extension give to mail (letters, digits, '-', '.', '!', ...); nothing
    // that a file- or path-based repository could take for a directory.
    private static final Pattern KEY = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._!+=@-]{0,254}$");

    private static final int DEFAULT_PAGE = 1000;

    private final AtrnConfiguration configuration;
    private final DomainLeases leases;
    // Providers: James creates WebAdmin routes before its mail repository store is ready, and
    // the store opens every domain's repository when it is built, so both wait for a request.
    private final Provider<ParkedMailStore> storeProvider;
    private final Provider<MailetContext> mailetContextProvider;
    private final Provider<AtrnMetrics> metricsProvider;
    private final Provider<Drains> drainsProvider;
    private final JsonTransformer json = new JsonTransformer();

    @Inject
    public AtrnRoutes(AtrnConfiguration configuration, DomainLeases leases, Provider<ParkedMailStore> store,
                      Provider<MailetContext> mailetContext, Provider<AtrnMetrics> metrics, Provider<Drains> drains) {
        this.configuration = configuration;
        this.leases = leases;
        this.storeProvider = store;
        this.mailetContextProvider = mailetContext;
        this.metricsProvider = metrics;
        this.drainsProvider = drains;
    }

    private ParkedMailStore store() {
        return storeProvider.get();
    }

    @Override
    public String getBasePath() {
        return "/atrn";
    }

    @Override
    public void define(Service service) {
        service.get(DOMAINS, (request, response) -> listDomains(), json);
        service.get(DOMAIN, (request, response) -> domainView(domain(request)), json);
        service.get(MAILS, (request, response) -> listMails(request), json);
        service.get(MAIL, this::getMail, json);
        service.delete(MAIL, this::deleteMail, json);
        service.delete(MAILS, this::deleteAll, json);
        service.post(MAIL, this::bounceOne, json);
        service.post(MAILS, this::bounceAll, json);
    }

    private List<ParkedViews.DomainView> listDomains() {
        List<ParkedViews.DomainView> views = new ArrayList<>();
        for (Domain domain : configuration.domains().stream().sorted(Comparator.comparing(Domain::asString))
                .collect(Collectors.toUnmodifiableList())) {
            views.add(domainView(domain));
        }
        return views;
    }

    private ParkedViews.DomainView domainView(Domain domain) {
        return read(() -> ParkedViews.domain(configuration, store(), leases, domain));
    }

    /**
     * Oldest first for our names (they start with the parking time); paged with offset and limit,
     * at most {@value #DEFAULT_PAGE} messages when no limit is given: every listed message is read
     * from the store, which for 100,000 parked messages would be 100,000 reads.
     */
    private List<ParkedViews.MailView> listMails(Request request) {
        Domain domain = domain(request);
        Offset offset = ParametersExtractor.extractOffset(request);
        Limit limit = request.queryParams("limit") == null ? Limit.limit(DEFAULT_PAGE) : ParametersExtractor.extractLimit(request);
        return read(() -> {
            List<MailKey> page = limit.applyOnStream(store().keys(domain).stream()
                .sorted(Comparator.comparing(MailKey::asString))
                .skip(offset.getOffset())).collect(Collectors.toUnmodifiableList());
            List<ParkedViews.MailView> views = new ArrayList<>();
            for (MailKey key : page) {
                Mail mail = store().retrieve(domain, key).orElse(null);
                try {
                    if (mail != null) {
                        views.add(ParkedViews.summary(key, mail));
                    }
                } finally {
                    LifecycleUtil.dispose(mail);
                }
            }
            return views;
        });
    }

    /**
     * {@code Accept: message/rfc822} gets the message as parked, streamed from the repository to
     * the socket (no Content-Length, so nothing has to be read twice); any other Accept gets the
     * JSON details. Decided here rather than by Spark's accept-type routing, whose choice for
     * {@code *}{@code /*} depends on route order.
     */
    private Object getMail(Request request, Response response) {
        Domain domain = domain(request);
        MailKey key = key(request);
        Mail mail = read(() -> store().retrieve(domain, key)).orElseThrow(() -> noSuchMail(domain, key));
        try {
            String accept = Optional.ofNullable(request.headers("Accept")).orElse("");
            if (!accept.contains(RFC822)) {
                return read(() -> ParkedViews.details(key, mail));
            }
            response.type(RFC822);
            try {
                OutputStream body = response.raw().getOutputStream();
                mail.getMessage().writeTo(body);
                // Commits the response, so Spark adds nothing after the message.
                body.flush();
            } catch (Exception e) {
                // Headers may be out already: all we can do is log and let the connection end short.
                LOGGER.error("WebAdmin could not send parked message {} of {}", key.asString(), domain.asString(), e);
                throw serverError("Could not read parked message " + key.asString() + " of " + domain.asString(), e);
            }
            return "";
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    private Object deleteMail(Request request, Response response) {
        Domain domain = domain(request);
        MailKey key = key(request);
        underClaim(request, domain, lease -> {
            Mail mail = store().retrieve(domain, key).orElseThrow(() -> noSuchMail(domain, key));
            LifecycleUtil.dispose(mail);
            store().remove(domain, key);
            LOGGER.info("WebAdmin removed parked message {} of {}", key.asString(), domain.asString());
            return null;
        });
        return Responses.returnNoContent(response);
    }

    private Object deleteAll(Request request, Response response) {
        Domain domain = domain(request);
        return underClaim(request, domain, lease -> {
            int removed = 0;
            for (MailKey key : store().keys(domain)) {
                checkStillHeld(lease, domain, "removed " + removed);
                store().remove(domain, key);
                removed++;
            }
            LOGGER.info("WebAdmin removed all {} parked message(s) of {}", removed, domain.asString());
            return Map.of("removed", removed);
        });
    }

    private Object bounceOne(Request request, Response response) {
        Domain domain = domain(request);
        MailKey key = key(request);
        requireBounceAction(request);
        return underClaim(request, domain, lease -> {
            Mail mail = store().retrieve(domain, key).orElseThrow(() -> noSuchMail(domain, key));
            BounceCount count = new BounceCount();
            try {
                bounce(domain, key, mail, count);
            } catch (MessagingException | RuntimeException e) {
                throw bounceFailed(domain, key, count, e);
            } finally {
                LifecycleUtil.dispose(mail);
            }
            return count;
        });
    }

    private Object bounceAll(Request request, Response response) {
        Domain domain = domain(request);
        requireBounceAction(request);
        return underClaim(request, domain, lease -> {
            BounceCount count = new BounceCount();
            for (MailKey key : store().keys(domain)) {
                checkStillHeld(lease, domain, count.describe());
                Mail mail = null;
                try {
                    mail = store().retrieve(domain, key).orElse(null);
                    if (mail != null) {
                        bounce(domain, key, mail, count);
                    }
                } catch (MessagingException | RuntimeException e) {
                    // Stop at the first failure: a broken bounce processor would fail for every message.
                    throw bounceFailed(domain, key, count, e);
                } finally {
                    LifecycleUtil.dispose(mail);
                }
            }
            LOGGER.info("WebAdmin bounced the parked mail of {}: {}", domain.asString(), count.describe());
            return count;
        });
    }

    /** What a bounce request did; serialized as the response body. */
    public static final class BounceCount {
        private int bounced;
        private int removedWithoutBounce;

        public int getBounced() {
            return bounced;
        }

        public int getRemovedWithoutBounce() {
            return removedWithoutBounce;
        }

        String describe() {
            return bounced + " bounced, " + removedWithoutBounce + " null-sender message(s) removed without a bounce";
        }
    }

    /**
     * The DSN request goes to the configured bounce processor first; the message is removed only
     * once that hand-over succeeded. A null-sender message (itself a DSN) is removed without one,
     * so bounces never loop.
     */
    private void bounce(Domain domain, MailKey key, Mail mail, BounceCount count) throws MessagingException {
        if (!Bounces.returnToSender(mailetContextProvider.get(), mail, configuration.bounceProcessor(), Bounces.UNDEFINED_PERMANENT,
                "An operator of this mail server returned the message while it waited for the ATRN customer of "
                    + domain.asString() + " to collect it")) {
            store().remove(domain, key);
            count.removedWithoutBounce++;
            return;
        }
        try {
            store().remove(domain, key);
        } catch (MessagingException e) {
            throw new BouncedNotRemoved(e);
        }
        count.bounced++;
        metricsProvider.get().bounced();
        LOGGER.info("WebAdmin bounced parked message {} of {} to {}", key.asString(), domain.asString(),
            mail.getMaybeSender().asString());
    }

    @FunctionalInterface
    private interface StoreRead<T> {
        T run() throws MessagingException;
    }

    @FunctionalInterface
    private interface ClaimedChange<T> {
        T run(DomainLease lease) throws MessagingException;
    }

    private <T> T read(StoreRead<T> reading) {
        try {
            return reading.run();
        } catch (MessagingException e) {
            LOGGER.error("WebAdmin could not read parked mail", e);
            throw serverError("Could not read parked mail", e);
        }
    }

    private <T> T underClaim(Request request, Domain domain, ClaimedChange<T> change) {
        Optional<DomainLease> claim;
        try {
            claim = drainsProvider.get().claim(List.of(domain), DomainLeases.Purpose.WEBADMIN,
                request.requestMethod() + " " + request.pathInfo());
        } catch (Drains.Refused e) {
            LOGGER.error("WebAdmin could not claim {}", domain.asString(), e.getCause());
            throw serverError("Could not claim " + domain.asString() + " (the claim store failed); nothing was changed", e);
        }
        if (claim.isEmpty()) {
            throw busy(domain);
        }
        try (DomainLease lease = claim.get()) {
            return change.run(lease);
        } catch (MessagingException e) {
            LOGGER.error("WebAdmin could not change the parked mail of {}", domain.asString(), e);
            throw serverError("Could not change the parked mail of " + domain.asString(), e);
        }
    }

    private static void checkStillHeld(DomainLease lease, Domain domain, String doneSoFar) {
        if (!lease.held()) {
            throw ErrorResponder.builder()
                .statusCode(HttpStatus.CONFLICT_409)
                .type(ErrorType.WRONG_STATE)
                .message("Stopped after " + doneSoFar + ": the claim on " + domain.asString()
                    + " could not be renewed, so another drainer may hold it now. Fix: repeat the request; it acts on what is left.")
                .haltError();
        }
    }

    private Domain domain(Request request) {
        String raw = request.params("domain");
        Domain domain = AtrnConfiguration.normalizeDomain(raw).orElseThrow(() -> ErrorResponder.builder()
            .statusCode(HttpStatus.BAD_REQUEST_400)
            .type(ErrorType.INVALID_ARGUMENT)
            .message("'" + raw + "' is not a domain name. Fix: give an LDH name with at least two labels, "
                + "such as customer.example (GET " + DOMAINS + " lists the ATRN domains).")
            .haltError());
        if (!configuration.isAtrnDomain(domain)) {
            throw ErrorResponder.builder()
                .statusCode(HttpStatus.NOT_FOUND_404)
                .type(ErrorType.NOT_FOUND)
                .message(domain.asString() + " is not an ATRN domain. Fix: use one listed by GET " + DOMAINS
                    + ", or add it to conf/atrn.xml and restart James.")
                .haltError();
        }
        return domain;
    }

    private static MailKey key(Request request) {
        String raw = request.params("key");
        if (raw == null || !KEY.matcher(raw).matches()) {
            throw ErrorResponder.builder()
                .statusCode(HttpStatus.BAD_REQUEST_400)
                .type(ErrorType.INVALID_ARGUMENT)
                .message("'" + raw + "' is not a parked-mail key. Fix: use a key as listed by GET "
                    + DOMAINS + "/<domain>/mails (letters, digits and . _ ! + = @ -, at most 255).")
                .haltError();
        }
        return new MailKey(raw);
    }

    private static void requireBounceAction(Request request) {
        String action = request.queryParams("action");
        if (!BOUNCE.equals(action)) {
            throw ErrorResponder.builder()
                .statusCode(HttpStatus.BAD_REQUEST_400)
                .type(ErrorType.INVALID_ARGUMENT)
                .message((action == null ? "No action given" : "Unknown action '" + action + "'")
                    + ". Fix: add ?action=bounce (the only action) to return the mail to its senders with a DSN.")
                .haltError();
        }
    }

    private static HaltException noSuchMail(Domain domain, MailKey key) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.NOT_FOUND_404)
            .type(ErrorType.NOT_FOUND)
            .message("No parked message " + key.asString() + " for " + domain.asString()
                + " (delivered, bounced or removed meanwhile?). Fix: use a key listed by GET " + DOMAINS + "/"
                + domain.asString() + "/mails.")
            .haltError();
    }

    private HaltException busy(Domain domain) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.CONFLICT_409)
            .type(ErrorType.WRONG_STATE)
            .message(drainsProvider.get().busy(List.of(domain)) + "; nothing was changed. Fix: try again once that is done "
                + "(GET " + DOMAINS + "/" + domain.asString() + " shows who holds it).")
            .haltError();
    }

    /** The DSN went out but the message is still parked: bouncing it again would send a second DSN. */
    private static final class BouncedNotRemoved extends MessagingException {
        BouncedNotRemoved(MessagingException cause) {
            super("bounced, but could not be removed: " + cause.getMessage(), cause);
        }
    }

    private HaltException bounceFailed(Domain domain, MailKey key, BounceCount count, Exception e) {
        LOGGER.error("WebAdmin could not bounce parked message {} of {}", key.asString(), domain.asString(), e);
        String fix = e instanceof BouncedNotRemoved
            ? key.asString() + " was bounced but is still parked. Fix: DELETE it (bouncing it again would send a second DSN)"
            : key.asString() + " and the rest stay parked. Fix: see in the James log why the '" + configuration.bounceProcessor()
                + "' processor refused it, then repeat the request";
        return ErrorResponder.builder()
            .statusCode(HttpStatus.INTERNAL_SERVER_ERROR_500)
            .type(ErrorType.SERVER_ERROR)
            .cause(e)
            .message("Stopped at " + key.asString() + " of " + domain.asString() + " after " + count.describe() + ": "
                + fix + ".")
            .haltError();
    }

    private static HaltException serverError(String message, Exception e) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.INTERNAL_SERVER_ERROR_500)
            .type(ErrorType.SERVER_ERROR)
            .cause(e)
            .message(message + ". The James log has the details.")
            .haltError();
    }
}
