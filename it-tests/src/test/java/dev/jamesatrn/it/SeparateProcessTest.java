package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.jamesatrn.testing.host.Fetchmail;
import dev.jamesatrn.testing.host.Prerequisites;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesProcess;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.OdmrClient;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * The operator's path: James started as its own java process from config-samples/ and the
 * built jar in extensions-jars/ (as the Docker image lays it out), mail injected with swaks and drained by fetchmail.
 * Parked mail is file:// and must survive a restart.
 */
class SeparateProcessTest {
    private static final String HOST = "127.0.0.1";
    private static final Path SWAKS = Path.of("/usr/bin/swaks");

    @Test
    void mailParkedBeforeARestartIsDeliveredAfterIt(@TempDir Path workingDirectory) throws Exception {
        JamesProcess.Ports ports = new JamesProcess.Ports(AtrnJames.freePort(), AtrnJames.freePort(), AtrnJames.freePort());
        Prerequisites.require(Files.isExecutable(SWAKS), "swaks is not installed (apt-get install swaks); .ci/run installs it");
        Prerequisites.require(Fetchmail.installed(), Fetchmail.NOT_INSTALLED);
        byte[] message = Messages.tricky("alice@customer.example");
        Path file = workingDirectory.resolve("message.eml");
        Files.write(file, message);

        try (JamesProcess james = JamesProcess.start(workingDirectory, HOST, ports, workingDirectory.resolve("james-1.log"))) {
            Process swaks = new ProcessBuilder(SWAKS.toString(), "--server", HOST + ":" + ports.inbound(),
                "--from", "sender@sender.test", "--to", "alice@customer.example", "--data", file.toString())
                .redirectErrorStream(true).start();
            String transcript = new String(swaks.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(swaks.waitFor()).as(transcript).isZero();
            await().atMost(30, SECONDS).until(() -> parkedCount(ports.webAdmin(), "customer.example") == 1);
        }

        try (JamesProcess james = JamesProcess.start(workingDirectory, HOST, ports, workingDirectory.resolve("james-2.log"))) {
            assertThat(parkedCount(ports.webAdmin(), "customer.example")).isEqualTo(1);
            try (SmtpSink sink = new SmtpSink()) {
                Fetchmail.Run run = Fetchmail.poll(workingDirectory, ports.odmr(), "customer", "customer-secret",
                    "customer.example", sink.port());
                assertThat(run.exitCode()).as(run.output()).isZero();
                byte[] expectedBody = Messages.bodyAsSentBySwaks(message);
                assertThat(sink.received()).singleElement()
                    .satisfies(received -> assertThat(Messages.body(received.data())).isEqualTo(expectedBody));
            }
            await().atMost(10, SECONDS).until(() -> parkedCount(ports.webAdmin(), "customer.example") == 0);
        }
    }

    /** Through our WebAdmin route, which also shows it is registered from the jar in extensions-jars/. */
    static long parkedCount(int webAdminPort, String domain) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + webAdminPort + "/atrn/domains/" + domain)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return new ObjectMapper().readTree(response.body()).get("parkedMessages").asLong();
    }

    @Test
    void aKill9MidDrainLosesNothing(@TempDir Path workingDirectory) throws Exception {
        JamesProcess.Ports ports = new JamesProcess.Ports(AtrnJames.freePort(), AtrnJames.freePort(), AtrnJames.freePort());
        CustomerServer first;
        try (JamesProcess james = JamesProcess.start(workingDirectory, HOST, ports, workingDirectory.resolve("james-1.log"))) {
            for (int i = 0; i < 3; i++) {
                List<String> replies = Inbound.send(ports.inbound(), "sender@sender.test", List.of("alice@customer.example"),
                    Messages.simple("killed-" + i, "alice@customer.example"));
                assertThat(replies.get(replies.size() - 1)).startsWith("250");
            }
            await().atMost(30, SECONDS).until(() -> parkedCount(ports.webAdmin(), "customer.example") == 3);

            // the second message has fully arrived when James dies, before our 250 reaches it
            first = new CustomerServer((step, index, reply) -> {
                if (step.equals("END") && index == 1) {
                    try {
                        james.kill();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return Optional.empty();
                }
                return Optional.of(reply);
            });
            try (OdmrClient client = new OdmrClient(ports.odmr())) {
                client.command("EHLO customer.example");
                assertThat(client.authCramMd5("customer", "customer-secret").get(0)).startsWith("235");
                assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
                client.serve(first);
            }
        }

        try (JamesProcess james = JamesProcess.start(workingDirectory, HOST, ports, workingDirectory.resolve("james-2.log"))) {
            assertThat(parkedCount(ports.webAdmin(), "customer.example")).isEqualTo(2);
            CustomerServer second = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
            try (OdmrClient client = new OdmrClient(ports.odmr())) {
                client.command("EHLO customer.example");
                client.startTls();
                client.command("EHLO customer.example");
                assertThat(client.authPlain("customer", "wrong-secret").get(0)).startsWith("535");
                assertThat(client.authPlain("customer", "customer-secret").get(0)).startsWith("235");
                assertThat(client.command("ATRN customer.example").get(0)).startsWith("250");
                client.serve(second);
            }
            List<String> subjects = new ArrayList<>();
            first.received.forEach(r -> subjects.add(Messages.subject(r.data())));
            first.unacknowledged.forEach(r -> subjects.add(Messages.subject(r.data())));
            second.received.forEach(r -> subjects.add(Messages.subject(r.data())));
            // the message in flight at the kill is the only one that may (and does) arrive twice
            assertThat(first.unacknowledged).hasSize(1);
            String inFlight = Messages.subject(first.unacknowledged.get(0).data());
            assertThat(subjects).hasSize(4).containsOnly("killed-0", "killed-1", "killed-2");
            assertThat(subjects.stream().filter(inFlight::equals)).hasSize(2);
            await().atMost(10, SECONDS).until(() -> parkedCount(ports.webAdmin(), "customer.example") == 0);
            // secrets never reach the log, in clear or as the BASE64 of AUTH PLAIN
            assertThat(Files.readString(workingDirectory.resolve("james-2.log")))
                .contains("login=customer tls=true atrn=1 domains=customer.example reply=250")
                .doesNotContain("customer-secret").doesNotContain("wrong-secret")
                .doesNotContain(java.util.Base64.getEncoder().encodeToString("\0customer\0customer-secret".getBytes(StandardCharsets.UTF_8)));
        }
    }

}
