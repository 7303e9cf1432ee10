package dev.jamesatrn.testing.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.james.GuiceJamesServer;
import org.apache.james.utils.WebAdminGuiceProbe;

/** James's WebAdmin {@code /metrics} (Prometheus text format), read over HTTP as a scraper would. */
public final class JamesMetrics {
    private JamesMetrics() {
    }

    public static String scrape(GuiceJamesServer server) throws Exception {
        int port = server.getProbe(WebAdminGuiceProbe.class).getWebAdminPort().getValue();
        HttpResponse<String> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** One sample; Dropwizard counters get the suffix _total in this format. */
    public static Optional<Double> value(String metrics, String name) {
        Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$").matcher(metrics);
        return matcher.find() ? Optional.of(Double.parseDouble(matcher.group(1))) : Optional.empty();
    }

    /** How much a counter grew between two scrapes (an absent counter counts as 0). */
    public static double delta(String before, String after, String name) {
        return value(after, name).orElse(0.0) - value(before, name).orElse(0.0);
    }
}
