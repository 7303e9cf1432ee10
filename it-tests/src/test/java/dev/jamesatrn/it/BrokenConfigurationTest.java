package dev.jamesatrn.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.apache.james.GuiceJamesServer;
import org.apache.james.MemoryJamesConfiguration;
import org.apache.james.MemoryJamesServerMain;
import org.apache.james.data.UsersRepositoryModuleChooser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.common.base.Throwables;

import dev.jamesatrn.testing.james.AtrnJames;
import dev.jamesatrn.testing.james.JamesLayout;

/** A broken conf/atrn.xml (or conf/atrn-customer.xml) must stop James at start, saying which file, which key, and the fix. */
class BrokenConfigurationTest {
    private static void layOut(Path workingDirectory) {
        JamesLayout.create(workingDirectory, Map.of(
            JamesLayout.INBOUND, "127.0.0.1:" + AtrnJames.freePort(),
            JamesLayout.ODMR, "127.0.0.1:" + AtrnJames.freePort(),
            JamesLayout.ODMR_TLS, "127.0.0.1:" + AtrnJames.freePort()), 0);
    }

    private static String startFailure(Path workingDirectory, String atrnXml) throws Exception {
        layOut(workingDirectory);
        if (atrnXml != null) {
            Files.writeString(workingDirectory.resolve("conf/atrn.xml"), atrnXml);
        }
        return startFailure(workingDirectory);
    }

    private static String startFailure(Path workingDirectory) throws Exception {
        GuiceJamesServer server = MemoryJamesServerMain.createServer(MemoryJamesConfiguration.builder()
            .workingDirectory(workingDirectory.toFile())
            .usersRepository(UsersRepositoryModuleChooser.Implementation.DEFAULT)
            .build());
        try {
            Throwable failure = catchThrowable(server::start);
            assertThat(failure).as("James must refuse to start").isNotNull();
            return Throwables.getRootCause(failure).getMessage();
        } finally {
            server.stop();
        }
    }

    @Test
    void aDomainWithNoLoginStopsJames(@TempDir Path workingDirectory) throws Exception {
        String message = startFailure(workingDirectory, "<atrn><logins><login name=\"customer\" secret=\"s\"/></logins>"
            + "<domains><domain name=\"customer.example\"/></domains></atrn>");

        assertThat(message).contains("conf/atrn.xml: key 'domains.domain.login'")
            .contains("has no login allowed to claim it")
            .contains("Fix: add <login>LOGIN</login>");
    }

    @Test
    void anUnknownKeyStopsJames(@TempDir Path workingDirectory) throws Exception {
        String message = startFailure(workingDirectory, "<atrn><logins><login name=\"customer\" secret=\"s\"/></logins>"
            + "<domian name=\"customer.example\"/>"
            + "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains></atrn>");

        assertThat(message).contains("conf/atrn.xml: key 'domian[@name]': unknown key");
    }

    @Test
    void aRepositoryProtocolJamesDoesNotServeStopsJames(@TempDir Path workingDirectory) throws Exception {
        String message = startFailure(workingDirectory, "<atrn><repositoryUrlPrefix>cassandra://var/mail/atrn/</repositoryUrlPrefix>"
            + "<logins><login name=\"customer\" secret=\"s\"/></logins>"
            + "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains></atrn>");

        assertThat(message).contains("key 'repositoryUrlPrefix'").contains("cassandra://var/mail/atrn/customer.example");
    }

    @Test
    void anOdmrIdleTimeoutBelowTenMinutesStopsJames(@TempDir Path workingDirectory) throws Exception {
        layOut(workingDirectory);
        Path smtp = workingDirectory.resolve("conf/smtpserver.xml");
        Files.writeString(smtp, Files.readString(smtp).replace("<connectiontimeout>1800</connectiontimeout>",
            "<connectiontimeout>300</connectiontimeout>"));

        assertThat(startFailure(workingDirectory))
            .contains("conf/smtpserver.xml: key 'connectiontimeout' of <smtpserver> 'odmrserver': 300 s is below the 10 minutes")
            .contains("Fix: <connectiontimeout>1800</connectiontimeout>");
    }

    @Test
    void anInboundServerStillOnJamesCoreHandlersStopsJames(@TempDir Path workingDirectory) throws Exception {
        layOut(workingDirectory);
        Path smtp = workingDirectory.resolve("conf/smtpserver.xml");
        String xml = Files.readString(smtp);
        String current = "<handlerchain coreHandlersPackage=\"dev.jamesatrn.extension.AtrnInboundHandlersPackage\">";
        assertThat(xml).contains(current);
        // the form of smtpserver.xml before AtrnInboundHandlersPackage existed
        Files.writeString(smtp, xml.replace(current, "<handlerchain><handler class=\"dev.jamesatrn.extension.AtrnRcptHook\"/>"));

        assertThat(startFailure(workingDirectory))
            .contains("conf/smtpserver.xml: key 'handlerchain[@coreHandlersPackage]' of <smtpserver> 'smtpserver-global'")
            .contains("relay check refuses mail for ATRN domains")
            .contains("Fix: <handlerchain coreHandlersPackage=\"dev.jamesatrn.extension.AtrnInboundHandlersPackage\">");
    }

    @Test
    void aRepositoryUrlWithoutProtocolStopsJames(@TempDir Path workingDirectory) throws Exception {
        String message = startFailure(workingDirectory, "<atrn><repositoryUrlPrefix>var/mail/atrn</repositoryUrlPrefix>"
            + "<logins><login name=\"customer\" secret=\"s\"/></logins>"
            + "<domains><domain name=\"customer.example\"><login>customer</login></domain></domains></atrn>");

        assertThat(message).contains("conf/atrn.xml: key 'repositoryUrlPrefix': 'var/mail/atrn/' is not a mail repository URL")
            .contains("Fix: use protocol://path/");
    }

    @Test
    void aCustomerProviderInPlaintextWithoutOptInAndAnUnknownKeyStopJames(@TempDir Path workingDirectory) throws Exception {
        layOut(workingDirectory);
        Files.writeString(workingDirectory.resolve("conf/atrn-customer.xml"), "<atrncustomer><provider name=\"upstream\">"
            + "<host>odmr.provider.example</host><tls>none</tls><login>customer</login><secret>s3cret</secret>"
            + "<pollIntervall>5m</pollIntervall></provider></atrncustomer>");

        assertThat(startFailure(workingDirectory))
            .contains("conf/atrn-customer.xml: key 'provider.pollIntervall': unknown key")
            .contains("conf/atrn-customer.xml: key 'provider.tls': provider 'upstream': 'none' sends the AUTH exchange")
            .contains("Fix: use <tls>starttls</tls> or <tls>implicit</tls>")
            .doesNotContain("s3cret");
    }
}
