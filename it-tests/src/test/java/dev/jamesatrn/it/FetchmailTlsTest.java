package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.jamesatrn.testing.host.Fetchmail;
import dev.jamesatrn.testing.host.Prerequisites;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.LogCapture;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * fetchmail with its "ssl" option (TLS from the first byte: it has no STARTTLS in ODMR mode) on
 * the sample's ODMR-over-TLS server. fetchmail reads one line per SSL_read and then waits in
 * select() on the raw socket, so it only works when every line of the reversed session comes in
 * a TLS record of its own (atrn.xml tlsRecordPerLine, on by default for implicit TLS).
 */
class FetchmailTlsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final LogCapture SESSION_LOG = new LogCapture("dev.jamesatrn.OdmrSession");
    private static Path workingDirectory;

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(path -> workingDirectory = path);

    @BeforeAll
    static void captureSessionLog() {
        SESSION_LOG.start();
    }

    @AfterAll
    static void releaseSessionLog() {
        SESSION_LOG.stop();
    }

    @Test
    void fetchmailOverImplicitTlsGetsEveryMessageByteExact(GuiceJamesServer server, @TempDir Path home) throws Exception {
        Prerequisites.require(Fetchmail.installed(), Fetchmail.NOT_INSTALLED);
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        PORTS.park(server, "customer.example", "alice@customer.example", Messages.tricky("alice@customer.example"));
        PORTS.park(server, "customer.example", "bob@customer.example", Messages.simple("second", "bob@customer.example"));
        PORTS.park(server, "customer.example", "carol@customer.example", Messages.tricky("carol@customer.example"));
        List<ParkedProbe.Parked> parked = new ArrayList<>(probe.all("customer.example"));
        assertThat(parked).hasSize(3);
        Path certificate = JamesLayout.exportCertificate(workingDirectory.resolve("conf/keystore"), home.resolve("james.pem"));

        // The sink offers PIPELINING: without a record per line fetchmail stalls right after MAIL.
        try (SmtpSink sink = new SmtpSink()) {
            Fetchmail.Run run = Fetchmail.pollTls(home, "localhost", PORTS.odmrTlsPort, certificate, "customer",
                "customer-secret", "customer.example", sink.port());

            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(sink.received()).hasSize(3);
            for (ParkedProbe.Parked original : parked) {
                assertThat(sink.received()).anySatisfy(received -> assertThat(received.data()).isEqualTo(original.bytes()));
            }
            assertThat(probe.count("customer.example")).isZero();
        }
        await().atMost(30, SECONDS).until(() -> SESSION_LOG.lines().stream()
            .anyMatch(line -> line.contains("tls=true") && line.contains("delivered=3")));
    }
}
