package dev.jamesatrn.testing.james;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * James 3.8.1 as a separate {@code java} process laid out like the {@code apache/james:memory}
 * image: {@code conf/} from config-samples, {@code extensions-jars/} holding only our jar,
 * James's own classpath from Maven, {@code -Dworking.directory} pointing at the layout.
 */
public final class JamesProcess implements AutoCloseable {
    public static final String MAIN_CLASS = "org.apache.james.MemoryJamesServerMain";

    public record Ports(int inbound, int odmr, int webAdmin, int odmrTls) {
        /** ODMR over implicit TLS on a free port. */
        public Ports(int inbound, int odmr, int webAdmin) {
            this(inbound, odmr, webAdmin, freePort());
        }
    }

    private static final Random FREE_PORTS = new SecureRandom();
    // several ports are picked before any server binds them: never hand one out twice
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private final Process process;
    private final Path workingDirectory;

    private JamesProcess(Process process, Path workingDirectory) {
        this.process = process;
        this.workingDirectory = workingDirectory;
    }

    /**
     * A port nobody listens on right now, for servers laid out on loopback. Picked below the
     * kernel's ephemeral range (Linux: 32768-60999), from which the OS's own pick (port 0) would
     * come: a port from there can be taken by any outgoing connection between this check and the
     * server's bind, which made a James start fail now and then with "Address already in use".
     */
    public static int freePort() {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int candidate = 20000 + FREE_PORTS.nextInt(12000);
            if (HANDED_OUT.contains(candidate)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(candidate));
                HANDED_OUT.add(candidate);
                return candidate;
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new IllegalStateException("no free port found between 20000 and 32000");
    }

    public static Path extensionJar() {
        return Path.of(System.getProperty("atrn.extension.jar",
            JamesLayout.repositoryRoot().resolve("extension/target/james-atrn-0.1.0-SNAPSHOT.jar").toString()));
    }

    public static Path jamesClasspathFile() {
        return Path.of(System.getProperty("atrn.james.classpath",
            JamesLayout.repositoryRoot().resolve("testing/target/james-classpath.txt").toString()));
    }

    /**
     * Lays out (or re-lays out, keeping {@code var/} and so the parked mail) and starts James.
     *
     * @param log where James's console output goes; null to share this process's console
     */
    public static JamesProcess start(Path workingDirectory, String host, Ports ports, Path log) throws IOException {
        return start(workingDirectory, host, ports, log, "1g", conf -> {
        });
    }

    /** Adjusts the laid-out conf/ before James starts (benchmarks only: tests use the samples as they are). */
    public interface ConfTweak {
        void apply(Path conf) throws IOException;
    }

    public static JamesProcess start(Path workingDirectory, String host, Ports ports, Path log, String maxHeap,
                                     ConfTweak tweak) throws IOException {
        JamesLayout.create(workingDirectory, Map.of(
            JamesLayout.INBOUND, host + ":" + ports.inbound(),
            JamesLayout.ODMR, host + ":" + ports.odmr(),
            JamesLayout.ODMR_TLS, host + ":" + ports.odmrTls()), ports.webAdmin());
        tweak.apply(workingDirectory.resolve("conf"));
        Path extensions = workingDirectory.resolve("extensions-jars");
        Files.createDirectories(extensions);
        Path jar = extensionJar();
        if (!Files.isRegularFile(jar)) {
            throw new IOException("Extension jar " + jar + " is missing: build it first (mvn -B package -DskipTests)");
        }
        Files.copy(jar, extensions.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        String classpath = Files.readString(jamesClasspathFile(), StandardCharsets.UTF_8).trim();

        List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx" + maxHeap,
            // e.g. -Datrn.james.jvmArgs=-XX:StartFlightRecording=... to profile a benchmark run
            System.getProperty("atrn.james.jvmArgs", "-Dunused=1"),
            "-Dworking.directory=" + workingDirectory.toAbsolutePath(),
            "-Dlogback.configurationFile=" + workingDirectory.resolve("conf/logback.xml").toAbsolutePath(),
            "-cp", classpath,
            MAIN_CLASS));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true);
        if (log == null) {
            builder.inheritIO();
        } else {
            builder.redirectOutput(log.toFile());
        }
        JamesProcess james = new JamesProcess(builder.start(), workingDirectory);
        james.awaitListening(host, ports, Duration.ofSeconds(120));
        return james;
    }

    private void awaitListening(String host, Ports ports, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int port : List.of(ports.inbound(), ports.odmr(), ports.webAdmin())) {
            while (!accepts(host, port)) {
                if (!process.isAlive()) {
                    throw new IOException("James exited with code " + process.exitValue() + " before listening on " + port);
                }
                if (System.nanoTime() > deadline) {
                    close();
                    throw new IOException("James did not listen on " + host + ":" + port + " within " + timeout.toSeconds() + " s");
                }
                try {
                    // polling a TCP port has no event to wait on; 200 ms keeps start-up detection cheap
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
    }

    private static boolean accepts(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public long pid() {
        return process.pid();
    }

    public Path workingDirectory() {
        return workingDirectory;
    }

    public Process process() {
        return process;
    }

    /** SIGKILL: no shutdown hook, no flushing, as a crash or an OOM killer would end James. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, as {@code docker stop} does; James's shutdown hook stops it cleanly. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while stopping James", e));
        }
    }
}
