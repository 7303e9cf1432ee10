package dev.jamesatrn.extension.webadmin;

import java.io.OutputStream;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import javax.inject.Inject;
import javax.inject.Provider;

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
import org.eclipse.jetty.http.HttpStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.operations.ParkedMailOperations.Refused;
import dev.jamesatrn.operations.ParkedMailOperations;
import spark.HaltException;
import spark.Request;
import spark.Response;
import spark.Route;
import spark.Service;

/**
 * WebAdmin routes for parked ATRN mail, listed in {@code conf/webadmin.properties} as
 * {@code extensions.routes}. James creates this class through our Guice child injector, so it
 * shares the extension's singletons (configuration, store, claims). The routes only read HTTP
 * (paths, parameters, Accept) and write it (JSON, status codes, the error texts with their fix);
 * {@link ParkedMailOperations} does the work.
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

    /** A route whose work may be refused: the refusal becomes the HTTP error. */
    @FunctionalInterface
    private interface Operation {
        Object handle(Request request, Response response) throws Refused;
    }

    private final AtrnConfiguration configuration;
    // A provider: James creates WebAdmin routes before its mail repository store is ready, and
    // the store opens every domain's repository when it is built, so it waits for a request.
    private final Provider<ParkedMailOperations> operations;
    private final JsonTransformer json = new JsonTransformer();

    @Inject
    public AtrnRoutes(AtrnConfiguration configuration, Provider<ParkedMailOperations> operations) {
        this.configuration = configuration;
        this.operations = operations;
    }

    @Override
    public String getBasePath() {
        return "/atrn";
    }

    @Override
    public void define(Service service) {
        service.get(DOMAINS, route((request, response) -> operations.get().domains()), json);
        // The request is checked before the service is built: a bad domain or key is a 400/404 even
        // while the store cannot be reached.
        service.get(DOMAIN, route((request, response) -> {
            Domain domain = domain(request);
            return operations.get().domain(domain);
        }), json);
        service.get(MAILS, route(this::listMails), json);
        service.get(MAIL, route(this::getMail), json);
        service.delete(MAIL, route(this::deleteMail), json);
        service.delete(MAILS, route((request, response) -> {
            Domain domain = domain(request);
            return Map.of("removed", operations.get().removeAll(domain, claimId(request)));
        }), json);
        service.post(MAIL, route(this::bounceOne), json);
        service.post(MAILS, route(this::bounceAll), json);
    }

    /**
     * Paged with offset and limit, at most {@value #DEFAULT_PAGE} messages when no limit is
     * given: every listed message is read from the store.
     */
    private Object listMails(Request request, Response response) throws Refused {
        Domain domain = domain(request);
        Offset offset = ParametersExtractor.extractOffset(request);
        Limit limit = request.queryParams("limit") == null ? Limit.limit(DEFAULT_PAGE) : ParametersExtractor.extractLimit(request);
        return operations.get().mails(domain, offset, limit);
    }

    /**
     * {@code Accept: message/rfc822} gets the message as parked, streamed from the repository to
     * the socket (no Content-Length, so nothing has to be read twice); any other Accept gets the
     * JSON details. Decided here rather than by Spark's accept-type routing, whose choice for
     * {@code *}{@code /*} depends on route order.
     */
    private Object getMail(Request request, Response response) throws Refused {
        Domain domain = domain(request);
        MailKey key = key(request);
        Mail mail = operations.get().mail(domain, key);
        try {
            String accept = Optional.ofNullable(request.headers("Accept")).orElse("");
            if (!accept.contains(RFC822)) {
                return operations.get().details(key, mail);
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

    private Object deleteMail(Request request, Response response) throws Refused {
        Domain domain = domain(request);
        MailKey key = key(request);
        operations.get().remove(domain, key, claimId(request));
        return Responses.returnNoContent(response);
    }

    private Object bounceOne(Request request, Response response) throws Refused {
        Domain domain = domain(request);
        MailKey key = key(request);
        requireBounceAction(request);
        return operations.get().bounce(domain, key, claimId(request));
    }

    private Object bounceAll(Request request, Response response) throws Refused {
        Domain domain = domain(request);
        requireBounceAction(request);
        return operations.get().bounceAll(domain, claimId(request));
    }

    /** Who holds the claim while a change runs, as GET /atrn/domains/<domain> shows it. */
    private static String claimId(Request request) {
        return request.requestMethod() + " " + request.pathInfo();
    }

    private Route route(Operation operation) {
        return (request, response) -> {
            try {
                return operation.handle(request, response);
            } catch (Refused refused) {
                throw error(request, refused);
            }
        };
    }

    /** The HTTP answer to a refusal: its status, and the fix the operator can apply. */
    private HaltException error(Request request, Refused refused) {
        String domain = AtrnConfiguration.normalizeDomain(request.params("domain")).map(Domain::asString)
            .orElse(request.params("domain"));
        if (refused instanceof ParkedMailOperations.BounceFailed) {
            ParkedMailOperations.BounceFailed failed = (ParkedMailOperations.BounceFailed) refused;
            String key = failed.key().asString();
            String fix = failed.bouncedNotRemoved()
                ? key + " was bounced but is still parked. Fix: DELETE it (bouncing it again would send a second DSN)"
                : key + " and the rest stay parked. Fix: see in the James log why the '" + configuration.bounceProcessor()
                    + "' processor refused it, then repeat the request";
            return ErrorResponder.builder()
                .statusCode(HttpStatus.INTERNAL_SERVER_ERROR_500)
                .type(ErrorType.SERVER_ERROR)
                .cause((Exception) refused.getCause())
                .message(refused.getMessage() + ": " + fix + ".")
                .haltError();
        }
        switch (refused.why()) {
            case NO_SUCH_MAIL:
                return ErrorResponder.builder()
                    .statusCode(HttpStatus.NOT_FOUND_404)
                    .type(ErrorType.NOT_FOUND)
                    .message(refused.getMessage() + ". Fix: use a key listed by GET " + DOMAINS + "/" + domain + "/mails.")
                    .haltError();
            case BUSY:
                return ErrorResponder.builder()
                    .statusCode(HttpStatus.CONFLICT_409)
                    .type(ErrorType.WRONG_STATE)
                    .message(refused.getMessage() + "; nothing was changed. Fix: try again once that is done "
                        + "(GET " + DOMAINS + "/" + domain + " shows who holds it).")
                    .haltError();
            case CLAIM_LOST:
                return ErrorResponder.builder()
                    .statusCode(HttpStatus.CONFLICT_409)
                    .type(ErrorType.WRONG_STATE)
                    .message(refused.getMessage() + ". Fix: repeat the request; it acts on what is left.")
                    .haltError();
            default:
                return serverError(refused.getMessage(), (Exception) refused.getCause());
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

    private static HaltException serverError(String message, Exception e) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.INTERNAL_SERVER_ERROR_500)
            .type(ErrorType.SERVER_ERROR)
            .cause(e)
            .message(message + ". The James log has the details.")
            .haltError();
    }
}
