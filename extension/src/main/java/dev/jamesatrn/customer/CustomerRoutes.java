package dev.jamesatrn.customer;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.utils.ErrorResponder;
import org.apache.james.webadmin.utils.ErrorResponder.ErrorType;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.eclipse.jetty.http.HttpStatus;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import spark.HaltException;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * WebAdmin routes of the ODMR customer role, listed in {@code conf/webadmin.properties} as
 * {@code extensions.routes=...,dev.jamesatrn.customer.CustomerRoutes}. They show each provider
 * and its last poll, and start a poll on demand; never the secret.
 *
 * <p>{@code POST /atrn/customer/providers/{name}/polls}: 202 when a poll starts (its outcome is
 * in the GET once it ends), 409 while one runs for that provider on this node, 404 for a name not
 * in {@code atrn-customer.xml}, 503 while James stops. A poll started here is still skipped if
 * another node holds the provider's claim: the GET then shows it under {@code lastSkipped}.
 */
public class CustomerRoutes implements Routes {
    static final String PROVIDERS = "/atrn/customer/providers";
    private static final String PROVIDER = PROVIDERS + "/:name";
    private static final String POLLS = PROVIDER + "/polls";

    private final PollScheduler scheduler;
    private final JsonTransformer json = new JsonTransformer();

    @Inject
    public CustomerRoutes(PollScheduler scheduler) {
        this.scheduler = scheduler;
    }

    @Override
    public String getBasePath() {
        return "/atrn/customer";
    }

    @Override
    public void define(Service service) {
        service.get(PROVIDERS, (request, response) -> scheduler.statuses().stream().map(ProviderView::new)
            .collect(Collectors.toList()), json);
        service.get(PROVIDER, (request, response) -> new ProviderView(scheduler.status(name(request))
            .orElseThrow(() -> unknown(name(request)))), json);
        service.post(POLLS, this::pollNow, json);
    }

    private Object pollNow(Request request, Response response) {
        String name = name(request);
        PollScheduler.Demand demand = scheduler.pollNow(name);
        switch (demand) {
            case STARTED:
                response.status(HttpStatus.ACCEPTED_202);
                return new PollStarted(name, PROVIDERS + "/" + name);
            case ALREADY_POLLING:
                throw ErrorResponder.builder()
                    .statusCode(HttpStatus.CONFLICT_409)
                    .type(ErrorType.WRONG_STATE)
                    .message("A poll of provider '" + name + "' is running now; no second one was started. Fix: wait for it "
                        + "(GET " + PROVIDERS + "/" + name + " shows pollingNow and, once it ends, lastPoll).")
                    .haltError();
            case UNKNOWN_PROVIDER:
                throw unknown(name);
            default:
                throw ErrorResponder.builder()
                    .statusCode(HttpStatus.SERVICE_UNAVAILABLE_503)
                    .type(ErrorType.SERVER_ERROR)
                    .message("James is stopping: no poll is started any more.")
                    .haltError();
        }
    }

    private static String name(Request request) {
        return request.params("name");
    }

    private static HaltException unknown(String name) {
        return ErrorResponder.builder()
            .statusCode(HttpStatus.NOT_FOUND_404)
            .type(ErrorType.NOT_FOUND)
            .message("No provider '" + name + "' in conf/" + CustomerConfiguration.FILE_NAME + ". Fix: use a name listed by GET "
                + PROVIDERS + ", or add the <provider> and restart James.")
            .haltError();
    }

    /** The answer to a POST that started a poll. */
    @JsonPropertyOrder({"provider", "status"})
    static final class PollStarted {
        private final String provider;
        private final String status;

        PollStarted(String provider, String status) {
            this.provider = provider;
            this.status = status;
        }

        @JsonProperty("provider")
        public String provider() {
            return provider;
        }

        /** Where to read the poll's outcome. */
        @JsonProperty("status")
        public String status() {
            return status;
        }
    }

    /** A provider as WebAdmin shows it: its settings but the secret, and its polls. */
    @JsonPropertyOrder({"name", "host", "port", "tls", "verifyCertificate", "mechanism", "login", "domains", "pollIntervalSeconds", "pollingNow",
        "pollingSince", "nextPollAt", "failedPollsInARow", "lastPoll", "lastSkipped"})
    static final class ProviderView {
        private final ProviderStatus status;

        ProviderView(ProviderStatus status) {
            this.status = status;
        }

        private Provider provider() {
            return status.provider();
        }

        @JsonProperty("name")
        public String name() {
            return provider().name();
        }

        @JsonProperty("host")
        public String host() {
            return provider().host();
        }

        @JsonProperty("port")
        public int port() {
            return provider().port();
        }

        @JsonProperty("tls")
        public String tls() {
            return provider().tls().name().toLowerCase(Locale.ROOT);
        }

        /** False (certificate checks off, a lab setting) must be visible where polls are watched, not only in the start-up log. */
        @JsonProperty("verifyCertificate")
        public boolean verifyCertificate() {
            return provider().verifyCertificate();
        }

        @JsonProperty("mechanism")
        public String mechanism() {
            return provider().mechanism().saslName();
        }

        @JsonProperty("login")
        public String login() {
            return provider().login();
        }

        /** Empty: a bare ATRN (every domain the login may collect). */
        @JsonProperty("domains")
        public List<String> domains() {
            return provider().domains();
        }

        @JsonProperty("pollIntervalSeconds")
        public long pollIntervalSeconds() {
            return provider().pollInterval().getSeconds();
        }

        @JsonProperty("pollingNow")
        public boolean pollingNow() {
            return status.polling();
        }

        @JsonProperty("pollingSince")
        public Optional<Instant> pollingSince() {
            return status.pollingSince();
        }

        @JsonProperty("nextPollAt")
        public Optional<Instant> nextPollAt() {
            return status.nextPollAt();
        }

        @JsonProperty("failedPollsInARow")
        public int failedPollsInARow() {
            return status.failedPollsInARow();
        }

        @JsonProperty("lastPoll")
        public Optional<PollView> lastPoll() {
            return status.lastPoll().map(PollView::new);
        }

        @JsonProperty("lastSkipped")
        public Optional<PollView> lastSkipped() {
            return status.lastSkipped().map(PollView::new);
        }
    }

    /** One poll: result is RECEIVED, NOTHING_WAITING, TRY_LATER, REFUSED, FAILED or SKIPPED. */
    @JsonPropertyOrder({"startedAt", "trigger", "result", "reply", "messages", "bytes", "durationMs", "error"})
    static final class PollView {
        private final PollRecord record;

        PollView(PollRecord record) {
            this.record = record;
        }

        @JsonProperty("startedAt")
        public Instant startedAt() {
            return record.startedAt();
        }

        @JsonProperty("trigger")
        public String trigger() {
            return record.trigger().label();
        }

        @JsonProperty("result")
        public String result() {
            return record.resultName();
        }

        @JsonProperty("reply")
        public Optional<String> reply() {
            return record.reply();
        }

        @JsonProperty("messages")
        public int messages() {
            return record.messages();
        }

        @JsonProperty("bytes")
        public long bytes() {
            return record.bytes();
        }

        @JsonProperty("durationMs")
        public long durationMs() {
            return record.took().toMillis();
        }

        @JsonProperty("error")
        public Optional<String> error() {
            return record.error();
        }
    }
}
