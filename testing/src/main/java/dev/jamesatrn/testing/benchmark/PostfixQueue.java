package dev.jamesatrn.testing.benchmark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Postfix from Debian's package as the benchmark's mainstream MTA: mail for the benchmark domain
 * is relayed to the sink, first held with defer_transports (the queue a provider keeps for an
 * ETRN customer), then flushed. Installs Postfix when missing; needs root, as CI has.
 */
final class PostfixQueue {
    private static final Path POSTFIX = Path.of("/usr/sbin/postfix");

    private PostfixQueue() {
    }

    static PostfixQueue prepare(int sinkPort) throws Exception {
        if (!Files.isExecutable(POSTFIX)) {
            run(Duration.ofMinutes(10), "sh", "-c", "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections"
                + " && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix");
        }
        Files.writeString(Path.of("/etc/postfix/main.cf"), String.join("\n",
            "compatibility_level = 3.6",
            "myhostname = postfix-bench.localdomain",
            "mydestination =",
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_mynetworks, reject",
            "relayhost = [127.0.0.1]:" + sinkPort,
            "defer_transports = smtp",
            "maillog_file = /var/log/postfix-bench.log",
            "message_size_limit = 0",
            ""));
        run(Duration.ofMinutes(1), "sh", "-c", "postfix stop >/dev/null 2>&1; postfix start");
        run(Duration.ofMinutes(1), "postsuper", "-d", "ALL");
        return new PostfixQueue();
    }

    String version() throws Exception {
        return run(Duration.ofSeconds(30), "postconf", "-h", "mail_version").trim();
    }

    void awaitHeld(int count) throws Exception {
        Traffic.waitFor(Duration.ofMinutes(30), () -> {
            try {
                return run(Duration.ofSeconds(30), "postqueue", "-j").lines().count() >= count;
            } catch (Exception e) {
                return false;
            }
        });
    }

    void flush() throws Exception {
        run(Duration.ofMinutes(1), "postconf", "-e", "defer_transports =");
        run(Duration.ofMinutes(1), "postfix", "reload");
        run(Duration.ofMinutes(1), "postqueue", "-f");
    }

    void stop() throws Exception {
        run(Duration.ofMinutes(1), "postfix", "stop");
    }

    private static String run(Duration limit, String... command) throws Exception {
        Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output.strip());
        }
        return output;
    }
}
