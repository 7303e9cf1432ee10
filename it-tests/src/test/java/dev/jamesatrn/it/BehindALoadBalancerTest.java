package dev.jamesatrn.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.james.JamesServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.smtp.OdmrClient;

/**
 * James behind a load balancer: every connection comes from the balancer's address. With the
 * PROXY protocol ({@code <proxyRequired>true</proxyRequired>} in smtpserver.xml, James 3.8.1), the
 * balancer's first line names the real client, and James reports that client as the session's
 * remote address, which the ETRN and AUTH limits count. James's own connectionLimitPerIP counts
 * connections before that line is read: the balancer's address. Here both ports of the sample
 * require PROXY, and every connection is made from 127.0.0.1, the "balancer".
 */
class BehindALoadBalancerTest {
    private static final AtrnJames PORTS = AtrnJames.ports();

    @RegisterExtension
    static JamesServerExtension james = PORTS.extension(BehindALoadBalancerTest::proxyRequired);

    private static void proxyRequired(Path workingDirectory) {
        JamesLayout.insertAfter(workingDirectory, "smtpserver.xml", "<jmxName>smtpserver-global</jmxName>", "<proxyRequired>true</proxyRequired>");
        JamesLayout.insertAfter(workingDirectory, "smtpserver.xml", "<jmxName>odmrserver</jmxName>", "<proxyRequired>true</proxyRequired>");
    }

    /** A connection from the balancer, carrying {@code client} in its PROXY (v1) header. */
    private static OdmrClient through(int port, String client) throws IOException {
        OdmrClient connection = new OdmrClient(port);
        connection.sendRaw(("PROXY TCP4 " + client + " 127.0.0.1 40000 " + port + "\r\n").getBytes(StandardCharsets.US_ASCII));
        connection.command("EHLO somewhere.test");
        return connection;
    }

    @Test
    void theEtrnLimitCountsEachClientTheProxyHeaderNamesNotTheBalancer() throws Exception {
        try (OdmrClient first = through(PORTS.inboundPort, "127.0.5.1")) {
            for (int i = 0; i < 10; i++) {
                assertThat(first.command("ETRN customer2.example").get(0)).as("ETRN %d", i + 1).startsWith("251 ");
            }
            assertThat(first.command("ETRN customer2.example").get(0)).startsWith("458 4.7.0 ");
        }
        try (OdmrClient second = through(PORTS.inboundPort, "127.0.5.2")) {
            assertThat(second.command("ETRN customer2.example").get(0)).startsWith("251 ");
        }
        try (OdmrClient firstAgain = through(PORTS.inboundPort, "127.0.5.1")) {
            assertThat(firstAgain.command("ETRN customer2.example").get(0)).startsWith("458 4.7.0 ");
        }
    }

    /** With proxyRequired, a client that bypasses the balancer (no PROXY line) is not served. */
    @Test
    void aClientConnectingWithoutTheProxyLineIsNotServed() throws Exception {
        try (OdmrClient direct = new OdmrClient(PORTS.inboundPort)) {
            assertThatThrownBy(() -> direct.command("EHLO somewhere.test")).isInstanceOfAny(EOFException.class, SocketException.class);
        }
    }

    /** The sample's connectionLimitPerIP of 10 on the ODMR port is then a limit for all customers together. */
    @Test
    void connectionLimitPerIpCountsTheBalancerWhateverTheProxyHeaderSays() throws Exception {
        List<OdmrClient> greeted = new ArrayList<>();
        int refused = 0;
        try {
            for (int i = 0; i < 11; i++) {
                try {
                    greeted.add(through(PORTS.odmrPort, "127.0.6." + (i + 1)));
                } catch (EOFException | SocketException e) {
                    refused++;
                }
            }
            assertThat(greeted).hasSize(10);
            assertThat(refused).isEqualTo(1);
        } finally {
            for (OdmrClient client : greeted) {
                client.close();
            }
        }
    }
}
