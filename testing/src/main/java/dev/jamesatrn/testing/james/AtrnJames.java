package dev.jamesatrn.testing.james;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerBuilder;
import org.apache.james.JamesServerExtension;
import org.apache.james.MemoryJamesConfiguration;
import org.apache.james.MemoryJamesServerMain;
import org.apache.james.data.UsersRepositoryModuleChooser;
import org.apache.james.utils.GuiceProbe;

import com.google.inject.Module;
import com.google.inject.multibindings.Multibinder;

import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Inbound;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * A real James memory server in this JVM, configured from config-samples/ through
 * {@link JamesLayout} (free loopback ports instead of 25 and 366).
 */
public final class AtrnJames {
    public final int inboundPort = freePort();
    public final int odmrPort = freePort();
    public final int odmrTlsPort = freePort();

    private AtrnJames() {
    }

    public static AtrnJames ports() {
        return new AtrnJames();
    }

    public JamesServerExtension extension(Consumer<Path> beforeStart) {
        return extension(beforeStart, binder -> {
        });
    }

    public JamesServerExtension extension(Consumer<Path> beforeStart, Module override) {
        return new JamesServerBuilder<MemoryJamesConfiguration>(tmp -> {
            JamesLayout.create(tmp.toPath(), Map.of(
                JamesLayout.INBOUND, "127.0.0.1:" + inboundPort,
                JamesLayout.ODMR, "127.0.0.1:" + odmrPort,
                JamesLayout.ODMR_TLS, "127.0.0.1:" + odmrTlsPort), 0);
            beforeStart.accept(tmp.toPath());
            return MemoryJamesConfiguration.builder()
                .workingDirectory(tmp)
                .usersRepository(UsersRepositoryModuleChooser.Implementation.DEFAULT)
                .build();
        })
            .server(MemoryJamesServerMain::createServer)
            .overrideServerModule(binder -> Multibinder.newSetBinder(binder, GuiceProbe.class)
                .addBinding().to(ParkedProbe.class))
            .overrideServerModule(override)
            .lifeCycle(JamesServerExtension.Lifecycle.PER_CLASS)
            .build();
    }

    /** Adds elements to conf/atrn.xml (e.g. short timeouts), before James reads it. */
    public static Consumer<Path> atrnXmlWith(String elements) {
        return workingDirectory -> JamesLayout.insertAfter(workingDirectory, "atrn.xml", "<atrn>", elements);
    }

    public JamesServerExtension extension() {
        return extension(path -> {
        });
    }

    /** Sends a message on the inbound port and waits until James has parked it. */
    public void park(GuiceJamesServer server, String domain, String rcpt, byte[] message) throws Exception {
        ParkedProbe probe = server.getProbe(ParkedProbe.class);
        long before = probe.count(domain);
        List<String> replies = Inbound.send(inboundPort, "sender@sender.test", List.of(rcpt), message);
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        await().atMost(30, SECONDS).until(() -> probe.count(domain) == before + 1);
    }

    /** An ODMR session past EHLO and AUTH CRAM-MD5. */
    public OdmrClient authenticated(String login, String secret) throws Exception {
        OdmrClient client = new OdmrClient(odmrPort);
        client.command("EHLO customer.example");
        assertThat(OdmrClient.code(client.authCramMd5(login, secret))).isEqualTo("235");
        return client;
    }

    /**
     * Runs ATRN for a domain in the background with a customer that, once reversed, waits for
     * {@code release} before greeting: the domain stays claimed until then.
     */
    public CompletableFuture<CustomerServer> holdReversed(String login, String secret, String domain, CountDownLatch release)
            throws InterruptedException {
        return holdReversed(odmrPort, login, secret, domain, release, true);
    }

    /** As above on any ODMR port; with {@code takeMail} false the holder hangs up instead of greeting, and the mail stays parked. */
    public static CompletableFuture<CustomerServer> holdReversed(int odmrPort, String login, String secret, String domain,
                                                         CountDownLatch release, boolean takeMail) throws InterruptedException {
        CountDownLatch reversed = new CountDownLatch(1);
        CustomerServer customer = new CustomerServer((step, index, reply) -> {
            if (step.equals("greeting")) {
                reversed.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return takeMail ? Optional.of(reply) : Optional.empty();
            }
            return Optional.of(reply);
        });
        CompletableFuture<CustomerServer> session = CompletableFuture.supplyAsync(() -> {
            try (OdmrClient client = new OdmrClient(odmrPort)) {
                client.command("EHLO customer.example");
                assertThat(OdmrClient.code(client.authCramMd5(login, secret))).isEqualTo("235");
                assertThat(client.command("ATRN " + domain).get(0)).startsWith("250");
                client.serve(customer);
                return customer;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        reversed.await();
        return session;
    }

    public static int freePort() {
        return JamesProcess.freePort();
    }
}
