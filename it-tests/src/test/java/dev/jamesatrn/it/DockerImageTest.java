package dev.jamesatrn.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.utility.MountableFile;

/**
 * The image built from docker/Dockerfile, run through the separate-process scenario: swaks
 * injects, the container is replaced (parked mail lives on a bind-mounted /root/var), fetchmail
 * drains. Needs a Docker engine; without one it is skipped and says why.
 */
class DockerImageTest {
    private static final int SMTP = 25;
    private static final int ODMR = 366;

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | Error e) {
            return false;
        }
    }

    @Test
    void theImageParksAcrossARestartAndFetchmailDrainsIt(@TempDir Path tmp) throws Exception {
        boolean docker = dockerAvailable();
        if (!docker) {
            System.out.println("DockerImageTest skipped: no Docker engine is reachable (none runs on our CI machines); "
                + "SeparateProcessTest covers the same layout without Docker.");
        }
        assumeTrue(docker, "no Docker engine is reachable");
        assumeTrue(Fetchmail.installed(), Fetchmail.NOT_INSTALLED);

        Path root = JamesLayout.repositoryRoot();
        ImageFromDockerfile image = new ImageFromDockerfile("james-atrn-it", true)
            .withFileFromPath("docker/Dockerfile", root.resolve("docker/Dockerfile"))
            .withFileFromPath("config-samples", root.resolve("config-samples"))
            .withFileFromPath("extension/target/" + JamesProcess.extensionJar().getFileName(), JamesProcess.extensionJar())
            .withDockerfilePath("docker/Dockerfile");
        Path keystore = tmp.resolve("keystore");
        JamesLayout.makeKeystore(keystore);
        Path var = Files.createDirectories(tmp.resolve("var"));
        byte[] message = Messages.tricky("alice@customer.example");
        Path file = tmp.resolve("message.eml");
        Files.write(file, message);

        try (GenericContainer<?> james = container(image, keystore, var)) {
            james.start();
            Process swaks = new ProcessBuilder("swaks", "--server", james.getHost() + ":" + james.getMappedPort(SMTP),
                "--from", "sender@sender.test", "--to", "alice@customer.example", "--data", file.toString())
                .redirectErrorStream(true).start();
            String transcript = new String(swaks.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(swaks.waitFor()).as(transcript).isZero();
        }

        try (GenericContainer<?> james = container(image, keystore, var); SmtpSink sink = new SmtpSink()) {
            james.start();
            // parking is asynchronous in the first container; the restart only proves it was durable
            Fetchmail.Run run = Fetchmail.poll(tmp, james.getHost(), james.getMappedPort(ODMR), "customer", "customer-secret",
                "customer.example", sink.port());
            assertThat(run.exitCode()).as(run.output()).isZero();
            byte[] expectedBody = Messages.bodyAsSentBySwaks(message);
            assertThat(sink.received()).singleElement()
                .satisfies(received -> assertThat(Messages.body(received.data())).isEqualTo(expectedBody));
        }
    }

    @SuppressWarnings("resource")
    private static GenericContainer<?> container(ImageFromDockerfile image, Path keystore, Path var) {
        return new GenericContainer<>(image)
            .withExposedPorts(SMTP, ODMR)
            .withCopyFileToContainer(MountableFile.forHostPath(keystore), "/root/conf/keystore")
            .withFileSystemBind(var.toString(), "/root/var", BindMode.READ_WRITE)
            .waitingFor(Wait.forLogMessage(".*JAMES server started.*", 1).withStartupTimeout(Duration.ofMinutes(3)));
    }
}
