package dev.jamesatrn.testing.james;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.apache.james.GuiceJamesServer;
import org.apache.james.utils.WebAdminGuiceProbe;

/** A request without body to an in-JVM James's WebAdmin, on the port James picked. */
public final class JamesWebAdmin {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private JamesWebAdmin() {
    }

    public static HttpResponse<String> send(GuiceJamesServer server, String method, String path) throws Exception {
        int port = server.getProbe(WebAdminGuiceProbe.class).getWebAdminPort().getValue();
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
