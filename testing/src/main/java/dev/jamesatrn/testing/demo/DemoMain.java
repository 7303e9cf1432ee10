package dev.jamesatrn.testing.demo;

import java.nio.file.Path;

import dev.jamesatrn.testing.james.JamesProcess;

/**
 * The main job: James 3.8.1 with this extension loaded from extensions-jars/ and configured
 * from config-samples/, on loopback only. Parked mail lives under the working directory
 * (default target/demo) and survives restarts.
 */
public final class DemoMain {
    private static final String HOST = "127.0.0.1";
    private static final JamesProcess.Ports PORTS = new JamesProcess.Ports(2525, 3366, 8000, 3367);

    private DemoMain() {
    }

    public static void main(String[] args) throws Exception {
        Path workingDirectory = Path.of(args.length > 0 ? args[0] : "target/demo").toAbsolutePath();
        System.out.println("Starting James 3.8.1 with james-atrn in " + workingDirectory + " ...");
        JamesProcess james = JamesProcess.start(workingDirectory, HOST, PORTS, null);
        Runtime.getRuntime().addShutdownHook(new Thread(james::close, "stop-james"));
        System.out.println(banner());
        int exit = james.process().waitFor();
        System.exit(exit);
    }

    static String banner() {
        return String.join("\n",
            "",
            "james-atrn demo is up (Ctrl-C stops it; parked mail survives a restart)",
            "  inbound SMTP  " + HOST + ":" + PORTS.inbound() + "   (mail for ATRN domains accepted from anyone)",
            "  ODMR (ATRN)   " + HOST + ":" + PORTS.odmr() + "   (STARTTLS, AUTH CRAM-MD5 / PLAIN / LOGIN)",
            "  ODMR over TLS " + HOST + ":" + PORTS.odmrTls() + "   (TLS from the first byte: fetchmail's ssl option)",
            "  WebAdmin      http://" + HOST + ":" + PORTS.webAdmin() + "/atrn/domains   (parked mail; /metrics: atrn_*)",
            "  ATRN domains  customer.example, customer2.example -> login customer / customer-secret",
            "                other.example (alice, bob only)       -> login other / other-secret",
            "",
            "Park a message:",
            "  swaks --server " + HOST + ":" + PORTS.inbound() + " --from someone@internet.test --to alice@customer.example",
            "",
            "Collect it as the customer would (fetchmail relays the reversed session to your own MTA):",
            "  printf 'poll " + HOST + " protocol odmr port " + PORTS.odmr() + " user \"customer\" password \"customer-secret\""
                + " fetchdomains customer.example,customer2.example smtphost 127.0.0.1/2526\\n' > /tmp/atrn.rc"
                + " && chmod 600 /tmp/atrn.rc && fetchmail -f /tmp/atrn.rc --nodetach --nosyslog -v",
            "  (first start a customer MTA on 127.0.0.1:2526, e.g. java -cp testing/target/classes dev.jamesatrn.testing.demo.SinkMain)",
            "The same over TLS (the demo's certificate is self-signed, hence no sslcertck; trust it with sslcertfile in production):",
            "  printf 'poll " + HOST + " protocol odmr port " + PORTS.odmrTls() + " user \"customer\" password \"customer-secret\" ssl no sslcertck"
                + " fetchdomains customer.example smtphost 127.0.0.1/2526\\n' > /tmp/atrn-tls.rc"
                + " && chmod 600 /tmp/atrn-tls.rc && fetchmail -f /tmp/atrn-tls.rc --nodetach --nosyslog -v",
            "",
            "See what is parked, and what the drains did:",
            "  curl -s http://" + HOST + ":" + PORTS.webAdmin() + "/atrn/domains",
            "  curl -s http://" + HOST + ":" + PORTS.webAdmin() + "/metrics | grep '^atrn_'",
            "");
    }
}
