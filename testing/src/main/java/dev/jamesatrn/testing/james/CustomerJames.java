package dev.jamesatrn.testing.james;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerExtension;
import org.apache.james.utils.DataProbeImpl;
import org.apache.james.utils.GuiceProbe;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import com.google.inject.multibindings.Multibinder;

import dev.jamesatrn.customer.PollOutcome;
import dev.jamesatrn.customer.Provider;

/**
 * A James with the extension as the ODMR customer, in this JVM: the samples as an operator copies
 * them, except that customer.example and customer2.example are its own local domains (with a
 * mailbox each) instead of ATRN domains it parks mail for. Registered as a JUnit extension
 * ({@code @RegisterExtension static CustomerJames}): James starts before the class with those
 * mailboxes, and its ODMR customer is closed before James stops.
 */
public final class CustomerJames implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback,
    ParameterResolver {
    public static final String ALICE = "alice@customer.example";
    public static final String BOB = "bob@customer2.example";
    public static final String HELLO_NAME = CustomerConf.HELLO_NAME;

    private final AtrnJames ports = AtrnJames.ports();
    private final int connectionTimeoutSeconds;
    private final JamesServerExtension james;

    /** @param connectionTimeoutSeconds the inbound server's idle timeout, which the reversed session takes; 0 keeps the sample's */
    public CustomerJames(int connectionTimeoutSeconds) {
        this.connectionTimeoutSeconds = connectionTimeoutSeconds;
        this.james = ports.extension(this::notParkingOwnDomains,
            binder -> Multibinder.newSetBinder(binder, GuiceProbe.class).addBinding().to(CustomerProbe.class));
    }

    public int inboundPort() {
        return ports.inboundPort;
    }

    public GuiceJamesServer server() {
        return james.getGuiceJamesServer();
    }

    public CustomerProbe probe() {
        return server().getProbe(CustomerProbe.class);
    }

    /** One poll by James's ODMR customer, on the caller's thread. */
    public PollOutcome poll(Provider provider) throws Exception {
        return probe().poller().poll(provider);
    }

    /** Full content of every message in the user's INBOX. */
    public List<byte[]> inbox(String user) throws Exception {
        return probe().inbox(user);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        james.beforeAll(context);
        addLocalMailboxes(server());
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        james.beforeEach(context);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        james.afterEach(context);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            probe().closePoller();
        } finally {
            james.afterAll(context);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return james.supportsParameter(parameter, context);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return james.resolveParameter(parameter, context);
    }

    private void notParkingOwnDomains(Path workingDirectory) {
        Path conf = workingDirectory.resolve("conf");
        try {
            CustomerConf.deliverLocally(conf, List.of("customer.example", "customer2.example"));
            CustomerConf.ownHelloName(conf);
            if (connectionTimeoutSeconds > 0) {
                Path smtp = conf.resolve("smtpserver.xml");
                Files.writeString(smtp, Files.readString(smtp).replaceFirst("<connectiontimeout>\\d+</connectiontimeout>",
                    "<connectiontimeout>" + connectionTimeoutSeconds + "</connectiontimeout>"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void addLocalMailboxes(GuiceJamesServer server) throws Exception {
        DataProbeImpl data = server.getProbe(DataProbeImpl.class);
        for (String user : List.of(ALICE, BOB)) {
            String domain = user.substring(user.indexOf('@') + 1);
            if (!data.containsDomain(domain)) {
                data.addDomain(domain);
            }
            if (!List.of(data.listUsers()).contains(user)) {
                data.addUser(user, "secret");
            }
        }
    }

    /** A provider as the tests configure it: short timeouts so failures end quickly. */
    public static Provider provider(String name, int port, Provider.Tls tls, Provider.Trust trust, String login, String secret,
                                    Provider.Mechanism mechanism, List<String> domains, Duration commandTimeout) {
        return new Provider(name, "localhost", port, tls, true, trust, login, secret, mechanism, domains,
            Duration.ofMinutes(5), Duration.ofMinutes(1), Duration.ofHours(1), commandTimeout, commandTimeout.multipliedBy(2));
    }
}
