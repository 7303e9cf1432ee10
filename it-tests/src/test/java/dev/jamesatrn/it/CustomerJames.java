package dev.jamesatrn.it;

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

import com.google.inject.multibindings.Multibinder;

import dev.jamesatrn.customer.Provider;

import dev.jamesatrn.testing.james.AtrnJames;

/**
 * A James with the extension as the ODMR customer, in this JVM: the samples as an operator copies
 * them, except that customer.example and customer2.example are its own local domains (with a
 * mailbox each) instead of ATRN domains it parks mail for.
 */
final class CustomerJames {
    static final String ALICE = "alice@customer.example";
    static final String BOB = "bob@customer2.example";
    static final String HELLO_NAME = "mx.customer.example";

    private final AtrnJames ports = AtrnJames.ports();
    private final int connectionTimeoutSeconds;

    /** @param connectionTimeoutSeconds the inbound server's idle timeout, which the reversed session takes; 0 keeps the sample's */
    CustomerJames(int connectionTimeoutSeconds) {
        this.connectionTimeoutSeconds = connectionTimeoutSeconds;
    }

    JamesServerExtension extension() {
        return ports.extension(this::notParkingOwnDomains,
            binder -> Multibinder.newSetBinder(binder, GuiceProbe.class).addBinding().to(CustomerProbe.class));
    }

    int inboundPort() {
        return ports.inboundPort;
    }

    private void notParkingOwnDomains(Path workingDirectory) {
        Path atrn = workingDirectory.resolve("conf/atrn.xml");
        try {
            Files.writeString(atrn, Files.readString(atrn)
                .replace("\"customer.example\"", "\"parked-here.example\"")
                .replace("\"customer2.example\"", "\"parked-here2.example\""));
            // Both Jameses run on this host: with autodetected names the provider would greet us
            // with its own name and, rightly, take the reversed session for a loop (LoopHandback).
            Path smtp = workingDirectory.resolve("conf/smtpserver.xml");
            String inbound = Files.readString(smtp).replace("<jmxName>smtpserver-global</jmxName>",
                "<jmxName>smtpserver-global</jmxName><helloName autodetect=\"false\">" + HELLO_NAME + "</helloName>");
            if (connectionTimeoutSeconds > 0) {
                inbound = inbound.replaceFirst("<connectiontimeout>\\d+</connectiontimeout>",
                    "<connectiontimeout>" + connectionTimeoutSeconds + "</connectiontimeout>");
            }
            Files.writeString(smtp, inbound);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void addLocalMailboxes(GuiceJamesServer server) throws Exception {
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
    static Provider provider(String name, int port, Provider.Tls tls, Provider.Trust trust, String login, String secret,
                             Provider.Mechanism mechanism, List<String> domains, Duration commandTimeout) {
        return new Provider(name, "localhost", port, tls, true, trust, login, secret, mechanism, domains,
            Duration.ofMinutes(5), Duration.ofMinutes(1), Duration.ofHours(1), commandTimeout, commandTimeout.multipliedBy(2));
    }
}
