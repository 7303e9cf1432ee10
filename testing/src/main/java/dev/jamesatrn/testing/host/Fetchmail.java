package dev.jamesatrn.testing.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's fetchmail as the ODMR customer: CRAM-MD5, ATRN for a domain list, relaying to an SMTP
 * host. JDK only: the benchmark runs it with testing's classes alone on its classpath.
 */
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

    /**
     * One poll for the benchmark: no --verbose (its output would cost fetchmail time per line),
     * up to {@code limit}, on {@code cpus} (taskset's list syntax) when given.
     */
    public static Run pollQuietly(Path home, int odmrPort, String login, String secret, String domains, int smtpPort,
                                  Duration limit, Optional<String> cpus) throws Exception {
        return run(home, rc("127.0.0.1", odmrPort, "", login, secret, domains, smtpPort), false, limit, cpus);
    }

    private static Run poll(Path home, String provider, int odmrPort, String tlsOptions, String login, String secret,
                            String domains, int smtpPort) throws Exception {
        return run(home, rc(provider, odmrPort, tlsOptions, login, secret, domains, smtpPort), true, Duration.ofSeconds(120),
            Optional.empty());
    }

    private static String rc(String provider, int odmrPort, String tlsOptions, String login, String secret, String domains,
                             int smtpPort) {
        // ssl, sslcertck and sslcertfile are user options: after user and password in the grammar
        return "poll " + provider + " protocol odmr port " + odmrPort
            + " user \"" + login + "\" password \"" + secret + "\"" + tlsOptions
            + " fetchdomains " + domains
            + " smtphost 127.0.0.1/" + smtpPort + "\n";
    }

    private static Run run(Path home, String rcLine, boolean verbose, Duration limit, Optional<String> cpus) throws Exception {
        Path rc = home.resolve("fetchmailrc");
        Files.writeString(rc, rcLine);
        // fetchmail refuses an rc file others can read
        Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rw-------"));
        List<String> command = new ArrayList<>();
        cpus.ifPresent(list -> command.addAll(List.of("taskset", "-c", list)));
        command.addAll(List.of(BINARY.toString(), "--fetchmailrc", rc.toString(), "--nodetach", "--nosyslog"));
        if (verbose) {
            command.add("--verbose");
        }
        // into a file, not a pipe read at the end: a long drain's output would fill the pipe and stall fetchmail
        Path output = home.resolve("fetchmail.out");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().put("HOME", home.toString());
        builder.environment().put("FETCHMAILHOME", home.toString());
        Process process = builder.start();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IOException("fetchmail did not finish within " + limit.toSeconds() + " s: " + Files.readString(output));
        }
        return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }
}
