package dev.jamesatrn.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.drain.ParkedMailExpiry;
import dev.jamesatrn.store.ParkedNames;
import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.FlakyMailRepositoryStore;
import dev.jamesatrn.testing.james.LogCapture;
import dev.jamesatrn.testing.james.ParkedProbe;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.Messages;

/**
 * The "delayed" DSN (atrn.xml {@code delayWarningAfter}) is recorded in the parked copy's name,
 * which the store changes by writing a renamed copy and removing the old one. When that fails,
 * the sender must still get one warning, not one per sweep, and no copy may multiply. Sweeps run
 * every second here; each failed one logs a warning, which is how the test counts them.
 */
class ExpiryFaultsTest {
    private static final AtrnJames PORTS = AtrnJames.ports();
    private static final Pattern MESSAGE_ID = Pattern.compile("(?im)^Message-ID:\\s*(\\S+)");

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(
        AtrnJames.atrnXmlWith("<maxParkedLifetime>1h</maxParkedLifetime><delayWarningAfter>1s</delayWarningAfter>"
            + "<expiryCheckInterval>1s</expiryCheckInterval>"),
        binder -> binder.bind(MailRepositoryStore.class).to(FlakyMailRepositoryStore.class));

    private final LogCapture expiryLog = new LogCapture(ParkedMailExpiry.class.getName());

    @BeforeEach
    void capture() {
        expiryLog.start();
    }

    @AfterEach
    void reset(GuiceJamesServer server) throws Exception {
        expiryLog.stop();
        FlakyMailRepositoryStore.FAILING_FLAG_UPDATE.set(false);
        FlakyMailRepositoryStore.FAILING_REMOVE.set(false);
        server.getProbe(ParkedProbe.class).clear("customer.example", "customer2.example", "other.example");
    }

    /** Parks a message for other.example whose sender is in customer2.example, where its DSNs get parked. */
    private void parkWarnedLater(GuiceJamesServer server, String subject) throws Exception {
        List<String> replies = Inbound.send(PORTS.inboundPort, "late@customer2.example", List.of("alice@other.example"),
            Messages.simple(subject, "alice@other.example"));
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> server.getProbe(ParkedProbe.class).count("other.example") >= 1);
    }

    /** The distinct "delayed" DSNs about {@code subject} parked now (their own Message-IDs). */
    private static Set<String> delayWarnings(GuiceJamesServer server, String subject) throws Exception {
        return server.getProbe(ParkedProbe.class).all("customer2.example").stream()
            .map(dsn -> new String(dsn.bytes(), StandardCharsets.ISO_8859_1))
            .filter(text -> text.contains("Action: delayed") && text.contains(subject))
            .map(text -> {
                Matcher id = MESSAGE_ID.matcher(text);
                return id.find() ? id.group(1) : text;
            })
            .collect(Collectors.toSet());
    }

    private long failedSweepsAbout(String domain) {
        return expiryLog.warnings().stream().filter(line -> line.contains(domain)).count();
    }

    @Test
    void aFlagUpdateThatCannotBeStoredDoesNotSendTheWarningAgain(GuiceJamesServer server) throws Exception {
        FlakyMailRepositoryStore.FAILING_FLAG_UPDATE.set(true);
        parkWarnedLater(server, "flag-not-stored");

        await().atMost(60, SECONDS).until(() -> failedSweepsAbout("other.example") >= 3);
        await().atMost(30, SECONDS).until(() -> !delayWarnings(server, "flag-not-stored").isEmpty());
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
            .until(() -> delayWarnings(server, "flag-not-stored").size() == 1);

        FlakyMailRepositoryStore.FAILING_FLAG_UPDATE.set(false);
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        await().atMost(30, SECONDS).until(() -> {
            List<String> keys = probe.keys("other.example");
            return keys.size() == 1 && ParkedNames.warned(keys.get(0));
        });
        assertThat(delayWarnings(server, "flag-not-stored")).hasSize(1);
    }

    @Test
    void aFlagUpdateWhoseOldCopyCannotBeRemovedDoesNotSendTheWarningAgainNorMultiplyTheMessage(GuiceJamesServer server)
            throws Exception {
        FlakyMailRepositoryStore.FAILING_REMOVE.set(true);
        parkWarnedLater(server, "old-copy-kept");
        ParkedProbe probe = server.getProbe(ParkedProbe.class);

        await().atMost(60, SECONDS).until(() -> failedSweepsAbout("other.example") >= 3);
        await().atMost(30, SECONDS).until(() -> !delayWarnings(server, "old-copy-kept").isEmpty());
        // the renamed copy and the old one that could not be removed; never a third
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
            .until(() -> delayWarnings(server, "old-copy-kept").size() == 1 && probe.count("other.example") <= 2);

        FlakyMailRepositoryStore.FAILING_REMOVE.set(false);
        await().atMost(30, SECONDS).until(() -> {
            List<String> keys = probe.keys("other.example");
            return keys.size() == 1 && ParkedNames.warned(keys.get(0));
        });
        assertThat(delayWarnings(server, "old-copy-kept")).hasSize(1);
    }
}
