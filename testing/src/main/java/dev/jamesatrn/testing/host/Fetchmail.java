package dev.jamesatrn.testing.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's fetchmail as the ODMR customer: CRAM-MD5, ATRN for a domain list, relaying to an SMTP host. */
public final class Fetchmail {
    public static final Path BINARY = Path.of("/usr/bin/fetchmail");
    public static final String NOT_INSTALLED = "fetchmail is not installed (apt-get install fetchmail); .ci/run installs it";

    public record Run(int exitCode, String output) {
    }

    private Fetchmail() {
    }

    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /** One poll of the ODMR port; fetchmail relays the reversed session to 127.0.0.1:smtpPort. */
    public static Run poll(Path home, int odmrPort, String login, String secret, String domains, int smtpPort) throws Exception {
        return poll(home, "127.0.0.1", odmrPort, login, secret, domains, smtpPort);
    }

    public static Run poll(Path home, String provider, int odmrPort, String login, String secret, String domains, int smtpPort)
            throws Exception {
        return poll(home, provider, odmrPort, "", login, secret, domains, smtpPort);
    }

    /**
     * One poll over TLS from the first byte (fetchmail's only TLS in ODMR mode), checking the
     * provider's certificate against {@code trustedCertificate} (PEM) and the name {@code provider}.
     */
    public static Run pollTls(Path home, String provider, int odmrPort, Path trustedCertificate, String login, String secret,
                       String domains, int smtpPort) throws Exception {
        return poll(home, provider, odmrPort, " ssl sslcertck sslcertfile \"" + trustedCertificate + "\"", login, secret,
            domains, smtpPort);
    }

    private static Run poll(Path home, String provider, int odmrPort, String tlsOptions, String login, String secret,
                            String domains, int smtpPort) throws Exception {
        Path rc = home.resolve("fetchmailrc");
        // ssl, sslcertck and sslcertfile are user options: after user and password in the grammar
        Files.writeString(rc, "poll " + provider + " protocol odmr port " + odmrPort
            + " user \"" + login + "\" password \"" + secret + "\"" + tlsOptions
            + " fetchdomains " + domains
            + " smtphost 127.0.0.1/" + smtpPort + "\n");
        // fetchmail refuses an rc file others can read
        Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rw-------"));
        ProcessBuilder builder = new ProcessBuilder(List.of(BINARY.toString(), "--fetchmailrc", rc.toString(),
            "--nodetach", "--nosyslog", "--verbose"))
            .redirectErrorStream(true);
        builder.environment().put("HOME", home.toString());
        builder.environment().put("FETCHMAILHOME", home.toString());
        Process process = builder.start();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("fetchmail finished").isTrue();
        return new Run(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
