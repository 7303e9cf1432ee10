package dev.jamesatrn.testing.james;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Lays out a James working directory the way the Docker image does: {@code conf/} copied from
 * {@code config-samples/}, plus a TLS keystore. The one thing changed on the way is where each
 * server listens (tests need free ports, the demo stays on loopback); that override is keyed by
 * the server's {@code <jmxName>} so the samples themselves stay as an operator would copy them.
 */
public final class JamesLayout {
    public static final String INBOUND = "smtpserver-global";
    public static final String ODMR = "odmrserver";
    public static final String ODMR_TLS = "odmrtlsserver";
    public static final String KEYSTORE_SECRET = "james72laBalle";

    private static final Pattern SERVER = Pattern.compile("(?s)<smtpserver\\b.*?</smtpserver>");
    private static final Pattern JMX_NAME = Pattern.compile("<jmxName>([^<]+)</jmxName>");
    private static final Pattern BIND = Pattern.compile("<bind>[^<]*</bind>");

    private JamesLayout() {
    }

    public static Path repositoryRoot() {
        String configured = System.getProperty("atrn.repo.root");
        Path start = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
        for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("config-samples")) && Files.exists(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("config-samples/ not found above " + start);
    }

    /**
     * @param binds jmxName of an smtpserver -> "host:port" to listen on
     * @param webAdminPort port for WebAdmin (0: James picks one)
     */
    public static Path create(Path workingDirectory, Map<String, String> binds, int webAdminPort) {
        try {
            Path conf = workingDirectory.resolve("conf");
            Files.createDirectories(conf);
            try (Stream<Path> samples = Files.list(repositoryRoot().resolve("config-samples"))) {
                for (Path sample : samples.filter(Files::isRegularFile).toList()) {
                    Files.copy(sample, conf.resolve(sample.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Path smtp = conf.resolve("smtpserver.xml");
            Files.writeString(smtp, overrideBinds(Files.readString(smtp), binds));
            Path webadmin = conf.resolve("webadmin.properties");
            Files.writeString(webadmin, Files.readString(webadmin).replaceAll("(?m)^port=.*$", "port=" + webAdminPort)
                .replaceAll("(?m)^host=.*$", "host=127.0.0.1"));
            makeKeystore(conf.resolve("keystore"));
            return workingDirectory;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Inserts {@code text} after each {@code anchor} in conf/{@code file} of a laid-out working
     * directory, before James starts. The anchor must be there: a sample that changed fails the
     * test that relies on it, instead of letting it test something else.
     */
    public static void insertAfter(Path workingDirectory, String file, String anchor, String text) {
        replace(workingDirectory, file, anchor, anchor + text);
    }

    /** Replaces each {@code anchor} (which must be there) in conf/{@code file} of a laid-out working directory. */
    public static void replace(Path workingDirectory, String file, String anchor, String replacement) {
        Path conf = workingDirectory.resolve("conf").resolve(file);
        try {
            String content = Files.readString(conf);
            if (!content.contains(anchor)) {
                throw new IllegalStateException("config-samples/" + file + " changed: no " + anchor + " to edit");
            }
            Files.writeString(conf, content.replace(anchor, replacement));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String overrideBinds(String smtpserverXml, Map<String, String> binds) {
        Matcher servers = SERVER.matcher(smtpserverXml);
        StringBuilder out = new StringBuilder();
        while (servers.find()) {
            String server = servers.group();
            Matcher jmx = JMX_NAME.matcher(server);
            String name = jmx.find() ? jmx.group(1).trim() : null;
            if (name == null || !binds.containsKey(name)) {
                // Several Jameses run side by side in the tests: none may keep a sample's fixed port.
                throw new IllegalArgumentException("no address given for the <smtpserver> "
                    + (name == null ? "without a jmxName" : "'" + name + "'") + " of config-samples/smtpserver.xml");
            }
            server = BIND.matcher(server).replaceFirst("<bind>" + binds.get(name) + "</bind>");
            servers.appendReplacement(out, Matcher.quoteReplacement(server));
        }
        servers.appendTail(out);
        return out.toString();
    }

    /** The keystore's certificate as PEM, for a client that must trust it (fetchmail's sslcertfile). */
    public static Path exportCertificate(Path keystore, Path pem) throws IOException {
        runKeytool(List.of("-exportcert", "-rfc", "-alias", "james", "-keystore", keystore.toString(),
            "-storepass", KEYSTORE_SECRET, "-file", pem.toString()));
        return pem;
    }

    /** The same keytool command config-samples/README.md gives operators. */
    public static void makeKeystore(Path keystore) throws IOException {
        if (Files.exists(keystore)) {
            return;
        }
        runKeytool(List.of("-genkeypair", "-alias", "james",
            "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650", "-storetype", "PKCS12",
            "-keystore", keystore.toString(), "-storepass", KEYSTORE_SECRET, "-dname", "CN=localhost"));
    }

    private static void runKeytool(List<String> arguments) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(arguments);
        Process process = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (process.waitFor() != 0) {
                throw new IOException("keytool failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running keytool", e);
        }
    }
}
