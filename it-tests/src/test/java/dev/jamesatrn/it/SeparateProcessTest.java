package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's path: James started as its own java process from config-samples/ and the
 * built jar in extensions-jars/ (as the Docker image lays it out). Parked mail is file:// and
 * must survive a restart.
 */
class SeparateProcessTest {
    private static final String HOST = "127.0.0.1";

    @Test
    void mailParkedBeforeARestartIsDeliveredAfterIt(@TempDir Path workingDirectory) throws Exception {
        JamesProcess.Ports ports = new JamesProcess.Ports(AtrnJames.freePort(), AtrnJames.freePort(), AtrnJames.freePort());
        byte[] message = Messages.tricky("alice@customer.example");

        try (JamesProcess james = JamesProcess.start(workingDirectory, HOST, ports, workingDirectory.resolve("james-1.log"))) {
            List<String> replies = Inbound.send(ports.inbound(), "sender@sender.test", List.of("alice@customer.example"), message);
            assertThat(replies.get(replies.size() - 1)).startsWith("250");
            await().atMost(30, SECONDS).until(() -> parkedCount(ports.webAdmin(), "customer.example") == 1);
        }

        try (JamesProcess james = JamesProcess.start(workingDirectory, HOST, ports, workingDirectory.resolve("james-2.log"))) {
            assertThat(parkedCount(ports.webAdmin(), "customer.example")).isEqualTo(1);
            CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            try (OdmrClient client = new OdmrClient(ports.odmr())) {
                client.command("EHLO customer.example");
                assertThat(client.authCramMd5("customer", "customer-secret").get(0)).startsWith("235");
                assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
                client.serve(customer);
            }
            assertThat(customer.received).singleElement()
                .satisfies(received -> assertThat(Messages.body(received.data())).isEqualTo(Messages.body(message)));
            await().atMost(10, SECONDS).until(() -> parkedCount(ports.webAdmin(), "customer.example") == 0);
        }
    }

    /** Through James's own WebAdmin mail-repository routes. */
    private static int parkedCount(int webAdminPort, String domain) throws Exception {
        String url = URLEncoder.encode("var/mail/atrn/" + domain, StandardCharsets.UTF_8);
        HttpResponse<String> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + webAdminPort + "/mailRepositories/" + url + "/mails")).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 404) {
            return 0;
        }
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        String body = response.body().trim();
        return body.equals("[]") ? 0 : body.split(",").length;
    }
}
