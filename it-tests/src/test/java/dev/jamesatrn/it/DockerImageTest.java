package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.utility.MountableFile;

import dev.jamesatrn.testing.host.Fetchmail;
import dev.jamesatrn.testing.host.Prerequisites;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.james.JamesProcess;
import dev.jamesatrn.testing.smtp.Messages;
import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * docker/Dockerfile, unchanged, built on apache/james:memory-3.8.1 (the official image, or the
 * stand-in docker/standin/build.sh makes where no registry can be reached: its only JVM is Java
 * 11, so this also proves our jar runs there). The container runs with host networking, as our
 * machines have no Docker bridge: swaks parks two messages on port 25, the container is replaced
 * while parked mail lives on a bind-mounted /root/var, then fetchmail drains one domain on the
 * ODMR port (366) and the other over implicit TLS (1366), byte for byte.
 */
class DockerImageTest {
    private static final String HOST = "127.0.0.1";
    private static final int SMTP = 25;
    private static final int ODMR = 366;
    private static final int ODMR_TLS = 1366;
    private static final int WEBADMIN = 8000;
    private static final String BASE_IMAGE = "apache/james:memory-3.8.1";

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | Error e) {
            return false;
        }
    }

    @Test
    void theImageParksAcrossARestartAndFetchmailDrainsItInClearAndOverTls(@TempDir Path tmp) throws Exception {
        Prerequisites.require(dockerAvailable(), "no Docker engine is reachable (./run-tests.sh installs and starts one as root,"
            + " with TESTCONTAINERS_RYUK_DISABLED=true and TESTCONTAINERS_HOST_OVERRIDE=localhost)");
        Prerequisites.require(Fetchmail.installed(), Fetchmail.NOT_INSTALLED);
        Prerequisites.require(Files.isExecutable(Path.of("/usr/bin/swaks")), "swaks is not installed (apt-get install swaks)");
        assertThat(DockerClientFactory.instance().client().listImagesCmd().withImageNameFilter(BASE_IMAGE).exec())
            .as(BASE_IMAGE + " is not on this Docker engine: pull it, or build the stand-in with docker/standin/build.sh")
            .isNotEmpty();
        for (int port : List.of(SMTP, ODMR, ODMR_TLS, WEBADMIN)) {
            assertPortFree(port);
        }

        Path root = JamesLayout.repositoryRoot();
        ImageFromDockerfile image = new ImageFromDockerfile("james-atrn-it", true)
            .withFileFromPath("docker/Dockerfile", root.resolve("docker/Dockerfile"))
            .withFileFromPath("config-samples", root.resolve("config-samples"))
            .withFileFromPath("extension/target/" + JamesProcess.extensionJar().getFileName(), JamesProcess.extensionJar())
            .withDockerfilePath("docker/Dockerfile");
        Path keystore = tmp.resolve("keystore");
        JamesLayout.makeKeystore(keystore);
        Path var = Files.createDirectories(tmp.resolve("var"));
        byte[] clear = Messages.tricky("alice@customer.example");
        byte[] overTls = Messages.tricky("carol@customer2.example");

        try (GenericContainer<?> james = container(image, keystore, var)) {
            james.start();
            swaks(tmp, "alice@customer.example", clear);
            swaks(tmp, "carol@customer2.example", overTls);
            // The memory app spools in memory: stop the container only once both are parked.
            await().atMost(60, SECONDS).until(() -> SeparateProcessTest.parkedCount(WEBADMIN, "customer.example") == 1
                && SeparateProcessTest.parkedCount(WEBADMIN, "customer2.example") == 1);
        }

        try (GenericContainer<?> james = container(image, keystore, var); SmtpSink sink = new SmtpSink()) {
            james.start();
            Fetchmail.Run plain = Fetchmail.poll(tmp, HOST, ODMR, "customer", "customer-secret", "customer.example", sink.port());
            assertThat(plain.exitCode()).as(plain.output()).isZero();
            assertThat(sink.received()).singleElement()
                .satisfies(received -> assertThat(Messages.body(received.data())).isEqualTo(Messages.bodyAsSentBySwaks(clear)));

            Fetchmail.Run tls = Fetchmail.pollTls(tmp, "localhost", ODMR_TLS, JamesLayout.exportCertificate(keystore, tmp.resolve("james.pem")), "customer",
                "customer-secret", "customer2.example", sink.port());
            assertThat(tls.exitCode()).as(tls.output()).isZero();
            assertThat(sink.received()).hasSize(2);
            assertThat(Messages.body(sink.received().get(1).data())).isEqualTo(Messages.bodyAsSentBySwaks(overTls));
            await().atMost(30, SECONDS).until(() -> SeparateProcessTest.parkedCount(WEBADMIN, "customer.example") == 0
                && SeparateProcessTest.parkedCount(WEBADMIN, "customer2.example") == 0);
            assertThat(james.getLogs()).doesNotContain("UnsupportedClassVersionError");
        }
    }

    private static void swaks(Path tmp, String rcpt, byte[] message) throws Exception {
        Path file = Files.createTempFile(tmp, "message", ".eml");
        Files.write(file, message);
        Process swaks = new ProcessBuilder("swaks", "--server", HOST + ":" + SMTP, "--from", "sender@sender.test",
            "--to", rcpt, "--data", file.toString())
            .redirectErrorStream(true).start();
        String transcript = new String(swaks.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(swaks.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(swaks.exitValue()).as(transcript).isZero();
    }

    /** Host networking: the container listens on this machine's own ports, which must be free. */
    private static void assertPortFree(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(port));
        } catch (IOException e) {
            fail("port " + port + " is in use on this machine; DockerImageTest runs the image with host networking"
                + " and needs ports " + List.of(SMTP, ODMR, ODMR_TLS, WEBADMIN) + " free (" + e.getMessage() + ")");
        }
    }

    @SuppressWarnings("resource")
    private static GenericContainer<?> container(ImageFromDockerfile image, Path keystore, Path var) {
        return new GenericContainer<>(image)
            // no Docker bridge on our machines, and no traffic may leave loopback: host networking only
            .withNetworkMode("host")
            .withCopyFileToContainer(MountableFile.forHostPath(keystore), "/root/conf/keystore")
            .withFileSystemBind(var.toString(), "/root/var", BindMode.READ_WRITE)
            .waitingFor(Wait.forLogMessage(".*JAMES server started.*", 1).withStartupTimeout(Duration.ofMinutes(3)));
    }
}
