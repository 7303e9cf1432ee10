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

/** A broken conf/atrn-customer.xml stops James at start with every problem, each with file, key and fix. */
class CustomerOpsBrokenConfigurationTest {
    @Test
    void plaintextWithoutOptInAndAnUnknownKeyStopJames(@TempDir Path workingDirectory) throws Exception {
        JamesLayout.create(workingDirectory, Map.of(
            JamesLayout.INBOUND, "127.0.0.1:" + AtrnJames.freePort(),
            JamesLayout.ODMR, "127.0.0.1:" + AtrnJames.freePort(),
            JamesLayout.ODMR_TLS, "127.0.0.1:" + AtrnJames.freePort()), 0);
        Files.writeString(workingDirectory.resolve("conf/atrn-customer.xml"), "<atrncustomer><provider name=\"upstream\">"
            + "<host>odmr.provider.example</host><tls>none</tls><login>customer</login><secret>s3cret</secret>"
            + "<pollIntervall>5m</pollIntervall></provider></atrncustomer>");
        GuiceJamesServer server = MemoryJamesServerMain.createServer(MemoryJamesConfiguration.builder()
            .workingDirectory(workingDirectory.toFile())
            .usersRepository(UsersRepositoryModuleChooser.Implementation.DEFAULT)
            .build());
        try {
            Throwable failure = catchThrowable(server::start);
            assertThat(failure).as("James must refuse to start").isNotNull();
            assertThat(Throwables.getRootCause(failure).getMessage())
                .contains("conf/atrn-customer.xml: key 'provider.pollIntervall': unknown key")
                .contains("conf/atrn-customer.xml: key 'provider.tls': provider 'upstream': 'none' sends the AUTH exchange")
                .contains("Fix: use <tls>starttls</tls> or <tls>implicit</tls>")
                .doesNotContain("s3cret");
        } finally {
            server.stop();
        }
    }
}
