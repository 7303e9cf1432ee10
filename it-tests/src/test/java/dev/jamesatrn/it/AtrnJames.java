package dev.jamesatrn.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.james.JamesServerBuilder;
import org.apache.james.JamesServerExtension;
import org.apache.james.MemoryJamesConfiguration;
import org.apache.james.MemoryJamesServerMain;
import org.apache.james.data.UsersRepositoryModuleChooser;
import org.apache.james.utils.GuiceProbe;

import com.google.inject.Module;
import com.google.inject.multibindings.Multibinder;

/**
 * A real James memory server in this JVM, configured from config-samples/ through
 * {@link JamesLayout} (free loopback ports instead of 25 and 366).
 */
final class AtrnJames {
    final int inboundPort = freePort();
    final int odmrPort = freePort();

    private AtrnJames() {
    }

    static AtrnJames ports() {
        return new AtrnJames();
    }

    JamesServerExtension extension(Consumer<Path> beforeStart) {
        return extension(beforeStart, binder -> {
        });
    }

    JamesServerExtension extension(Consumer<Path> beforeStart, Module override) {
        return new JamesServerBuilder<MemoryJamesConfiguration>(tmp -> {
            JamesLayout.create(tmp.toPath(), Map.of(
                JamesLayout.INBOUND, "127.0.0.1:" + inboundPort,
                JamesLayout.ODMR, "127.0.0.1:" + odmrPort), 0);
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
    static Consumer<Path> atrnXmlWith(String elements) {
        return workingDirectory -> {
            Path atrn = workingDirectory.resolve("conf/atrn.xml");
            try {
                java.nio.file.Files.writeString(atrn, java.nio.file.Files.readString(atrn).replace("<atrn>", "<atrn>" + elements));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    JamesServerExtension extension() {
        return extension(path -> {
        });
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
