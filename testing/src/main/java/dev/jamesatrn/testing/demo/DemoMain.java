package dev.jamesatrn.testing.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.jamesatrn.testing.james.CustomerConf;
import dev.jamesatrn.testing.james.JamesProcess;

/**
 * The main job, both roles on loopback: the provider (James 3.8.1 with this extension loaded
 * from extensions-jars/ and configured from config-samples/) parks mail, and a second James
 * process, the customer, pulls its domains' share over ATRN on its schedule into local
 * mailboxes. Parked mail lives under the provider's working directory (default target/demo) and
 * survives restarts; the customer's (default target/demo-customer) is a memory James, whose
 * mailboxes start empty at every start.
 */
public final class DemoMain {
    private static final String HOST = "127.0.0.1";
    private static final JamesProcess.Ports PORTS = new JamesProcess.Ports(2525, 3366, 8000, 3367);
    private static final JamesProcess.Ports CUSTOMER = new JamesProcess.Ports(2625, 3466, 8001, 3467);
    private static final int CUSTOMER_IMAP = 1143;
    private static final String PROVIDER_NAME = "demo-provider";
    private static final String ALICE = "alice@customer.example";
    private static final String BOB = "bob@customer2.example";
    private static final String POLL_INTERVAL = "1m";

    private DemoMain() {
    }

    public static void main(String[] args) throws Exception {
        Path workingDirectory = Path.of(args.length > 0 ? args[0] : "target/demo").toAbsolutePath();
        Path customerDirectory = workingDirectory.resolveSibling(workingDirectory.getFileName() + "-customer");
        Path customerLog = customerDirectory.resolve("james.log");
        System.out.println("Starting the provider, James 3.8.1 with james-atrn, in " + workingDirectory + " ...");
        JamesProcess provider = JamesProcess.start(workingDirectory, HOST, PORTS, null);
        JamesProcess customer;
        try {
            System.out.println("Starting the customer, a second James, in " + customerDirectory + " (log: " + customerLog + ") ...");
            Files.createDirectories(customerDirectory);
            customer = JamesProcess.start(customerDirectory, HOST, CUSTOMER, customerLog, "1g",
                conf -> customerConf(conf, workingDirectory.resolve("conf/keystore")));
        } catch (IOException | RuntimeException e) {
            provider.close();
            throw e;
        }
        // The customer first, so that no poll is cut by the provider going away.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            customer.close();
            provider.close();
        }, "stop-james"));
        System.out.println(banner(customerLog));
        // Either James ending on its own ends the demo (the hook stops the other).
        CompletableFuture.anyOf(provider.process().onExit(), customer.process().onExit()).join();
        System.exit(provider.process().isAlive() ? customer.process().exitValue() : provider.process().exitValue());
    }

    /**
     * The customer polls the provider's ODMR port with STARTTLS, checking its certificate against
     * a trust store holding only that certificate, by the name in it (CN=localhost, as the
     * tests do); customer.example and customer2.example are its own domains, with a user each.
     */
    private static void customerConf(Path conf, Path providerKeystore) throws IOException {
        CustomerConf.trustProvider(conf, providerKeystore);
        CustomerConf.apply(conf, String.join("\n",
            "    <provider name=\"" + PROVIDER_NAME + "\">",
            "        <host>localhost</host>",
            "        <port>" + PORTS.odmr() + "</port>",
            "        <tls>starttls</tls>",
            "        <trustStore>file://conf/" + CustomerConf.TRUST_STORE + "</trustStore>",
            "        <trustStorePassword>" + CustomerConf.TRUST_STORE_SECRET + "</trustStorePassword>",
            "        <login>customer</login>",
            "        <secret>customer-secret</secret>",
            "        <domains>customer.example, customer2.example</domains>",
            "        <pollInterval>" + POLL_INTERVAL + "</pollInterval>",
            "        <initialBackoff>10s</initialBackoff>",
            "    </provider>"),
            Map.of(ALICE, "alice-secret", BOB, "bob-secret"));
        Files.setPosixFilePermissions(conf.resolve("atrn-customer.xml"), PosixFilePermissions.fromString("rw-------"));
        // IMAP, to read what arrived (the samples turn it off: the provider needs none)
        Files.writeString(conf.resolve("imapserver.xml"), String.join("\n",
            "<?xml version=\"1.0\"?>",
            "<imapservers>",
            "    <imapserver enabled=\"true\">",
            "        <jmxName>imapserver</jmxName>",
            "        <bind>" + HOST + ":" + CUSTOMER_IMAP + "</bind>",
            "        <tls socketTLS=\"false\" startTLS=\"false\"/>",
            "        <auth><requireSSL>false</requireSSL><plainAuthEnabled>true</plainAuthEnabled></auth>",
            "    </imapserver>",
            "</imapservers>",
            ""));
    }

    static String banner(Path customerLog) {
        String providerAdmin = "http://" + HOST + ":" + PORTS.webAdmin();
        String customerAdmin = "http://" + HOST + ":" + CUSTOMER.webAdmin();
        return String.join("\n",
            "",
            "james-atrn demo is up: two James processes (Ctrl-C stops both; parked mail survives a restart)",
            "The provider holds mail for its customers' domains:",
            "  inbound SMTP  " + HOST + ":" + PORTS.inbound() + "   (mail for ATRN domains accepted from anyone)",
            "  ODMR (ATRN)   " + HOST + ":" + PORTS.odmr() + "   (STARTTLS, AUTH CRAM-MD5 / PLAIN / LOGIN)",
            "  ODMR over TLS " + HOST + ":" + PORTS.odmrTls() + "   (TLS from the first byte: fetchmail's ssl option)",
            "  WebAdmin      " + providerAdmin + "/atrn/domains   (parked mail; /metrics: atrn_*)",
            "  ATRN domains  customer.example, customer2.example -> login customer / customer-secret (pulled by the customer below)",
            "                other.example (alice, bob only)       -> login other / other-secret (left for fetchmail)",
            "The customer, a second James, pulls customer.example and customer2.example from the provider every "
                + POLL_INTERVAL + " (ATRN over STARTTLS,",
            "certificate checked) into its own mailboxes " + ALICE + " and " + BOB + ":",
            "  inbound SMTP  " + HOST + ":" + CUSTOMER.inbound() + "   (helloName " + CustomerConf.HELLO_NAME + ")",
            "  IMAP          " + HOST + ":" + CUSTOMER_IMAP + "   (alice-secret, bob-secret)",
            "  WebAdmin      " + customerAdmin + "/atrn/customer/providers",
            "  its log       " + customerLog,
            "",
            "Watch the customer pull a message:",
            "  swaks --server " + HOST + ":" + PORTS.inbound() + " --from someone@internet.test --to " + ALICE,
            "  curl -s " + providerAdmin + "/atrn/domains                 # parked at the provider until the next poll",
            "  tail -f " + customerLog + " | grep --line-buffered 'ATRN customer poll'",
            "  curl -s -X POST " + customerAdmin + "/atrn/customer/providers/" + PROVIDER_NAME + "/polls   # poll now",
            "  curl -s " + customerAdmin + "/atrn/customer/providers      # last poll: result, reply, messages, bytes",
            "  curl -s " + customerAdmin + "/users/" + ALICE + "/mailboxes/INBOX/messageCount",
            "  curl -s --user " + ALICE + ":alice-secret 'imap://" + HOST + ":" + CUSTOMER_IMAP + "/INBOX;UID=1'"
                + "   # Received: ... (ODMR pull from " + PROVIDER_NAME + ")",
            "",
            "Or collect mail for other.example as fetchmail would (it relays the reversed session to your own MTA):",
            "  swaks --server " + HOST + ":" + PORTS.inbound() + " --from someone@internet.test --to alice@other.example",
            "  printf 'poll " + HOST + " protocol odmr port " + PORTS.odmr() + " user \"other\" password \"other-secret\""
                + " fetchdomains other.example smtphost 127.0.0.1/2526\\n' > /tmp/atrn.rc"
                + " && chmod 600 /tmp/atrn.rc && fetchmail -f /tmp/atrn.rc --nodetach --nosyslog -v",
            "  (first start a customer MTA on 127.0.0.1:2526, e.g. java -cp testing/target/classes dev.jamesatrn.testing.demo.SinkMain)",
            "The same over TLS (the demo's certificate is self-signed, hence no sslcertck; trust it with sslcertfile in production):",
            "  printf 'poll " + HOST + " protocol odmr port " + PORTS.odmrTls() + " user \"other\" password \"other-secret\" ssl no sslcertck"
                + " fetchdomains other.example smtphost 127.0.0.1/2526\\n' > /tmp/atrn-tls.rc"
                + " && chmod 600 /tmp/atrn-tls.rc && fetchmail -f /tmp/atrn-tls.rc --nodetach --nosyslog -v",
            "",
            "See what is parked, and what the drains did:",
            "  curl -s " + providerAdmin + "/atrn/domains",
            "  curl -s " + providerAdmin + "/metrics | grep '^atrn_'",
            "  curl -s " + customerAdmin + "/metrics | grep '^atrn_customer'",
            "");
    }
}
