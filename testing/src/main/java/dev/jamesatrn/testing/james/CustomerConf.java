package dev.jamesatrn.testing.james;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;

/**
 * The conf/ changes that make a James laid out from config-samples the ODMR customer of another
 * James on this host (the demo's and the benchmark's customer, {@link JamesProcess}): its own
 * local domains with users and mailboxes instead of parking them, a helloName of its own, the
 * customer's WebAdmin routes, and conf/atrn-customer.xml naming the provider. JDK only: the demo
 * and the benchmark run with testing's classes alone on their classpath.
 */
public final class CustomerConf {
    /** Differs from the provider's autodetected name: a customer greeting with the provider's own name is taken for a loop. */
    public static final String HELLO_NAME = "mx.customer.example";
    public static final String TRUST_STORE = "provider-trust.p12";
    public static final String TRUST_STORE_SECRET = "provider-trust";
    private static final String ROUTES = "dev.jamesatrn.customer.CustomerRoutes";
    private static final String STARTABLE = "dev.jamesatrn.testing.james.LocalMailboxes";

    private CustomerConf() {
    }

    /**
     * @param providers the {@code <provider>} elements of conf/atrn-customer.xml
     * @param localUsers address -> password, created with their domains and INBOX while James starts
     */
    public static void apply(Path conf, String providers, Map<String, String> localUsers) throws IOException {
        deliverLocally(conf, localUsers.keySet().stream().map(user -> user.substring(user.indexOf('@') + 1)).distinct()
            .collect(Collectors.toList()));
        ownHelloName(conf);
        if (!Files.readString(conf.resolve("webadmin.properties")).contains(ROUTES)) {
            JamesLayout.replace(conf.getParent(), "webadmin.properties", "extensions.routes=", "extensions.routes=" + ROUTES + ",");
        }
        writeProviders(conf, providers);
        localMailboxes(conf, localUsers);
    }

    /** conf/atrn-customer.xml with these {@code <provider>} elements: the customer role on. */
    public static void writeProviders(Path conf, String providers) throws IOException {
        Files.writeString(conf.resolve("atrn-customer.xml"), "<?xml version=\"1.0\"?>\n<atrncustomer>\n" + providers
            + "\n</atrncustomer>\n");
    }

    /**
     * A provider on 127.0.0.1 asked for customer.example, polled only on demand once its first
     * poll (at start) is done: interval and back-off are an hour.
     *
     * @param tls the TLS elements, e.g. {@code <tls>implicit</tls>}
     */
    public static String onDemandProvider(String name, int port, String tls, String login, String secret) {
        return "<provider name=\"" + name + "\"><host>127.0.0.1</host><port>" + port + "</port>" + tls
            + "<login>" + login + "</login><secret>" + secret + "</secret><domains>customer.example</domains>"
            + "<pollInterval>1h</pollInterval><initialBackoff>1h</initialBackoff><maxBackoff>1h</maxBackoff></provider>";
    }

    /** {@link #onDemandProvider} in plain text, as a scripted provider speaks. */
    public static String onDemandPlaintextProvider(String name, int port, String login, String secret) {
        return onDemandProvider(name, port, "<tls>none</tls><allowPlaintext>true</allowPlaintext>", login, secret);
    }

    /** The sample's ATRN domains that are local here are renamed: this James delivers them, it does not park them. */
    public static void deliverLocally(Path conf, Collection<String> localDomains) throws IOException {
        Path atrn = conf.resolve("atrn.xml");
        String content = Files.readString(atrn);
        int renamed = 0;
        for (String domain : localDomains) {
            content = content.replace("name=\"" + domain + "\"", "name=\"parked-here-" + (++renamed) + ".example\"");
        }
        Files.writeString(atrn, content);
    }

    /**
     * Both Jameses run on this host: with autodetected names the provider would be greeted with
     * its own name and, rightly, take the reversed session for a loop (LoopHandback).
     */
    public static void ownHelloName(Path conf) {
        JamesLayout.replace(conf.getParent(), "smtpserver.xml", "<jmxName>smtpserver-global</jmxName>",
            "<jmxName>smtpserver-global</jmxName><helloName autodetect=\"false\">" + HELLO_NAME + "</helloName>");
    }

    /** The users, through {@link LocalMailboxes} in a jar of its own in extensions-jars/. */
    private static void localMailboxes(Path conf, Map<String, String> localUsers) throws IOException {
        Files.writeString(conf.resolve(LocalMailboxes.FILE), localUsers.entrySet().stream()
            .map(user -> user.getKey() + "=" + user.getValue()).collect(Collectors.joining("\n", "", "\n")));
        String extensions = Files.readString(conf.resolve("extensions.properties"));
        if (!extensions.contains(STARTABLE)) {
            Files.writeString(conf.resolve("extensions.properties"), extensions.stripTrailing() + "\n"
                + "# the demo's and the benchmark's local users (testing module), created at start\n"
                + "guice.extension.startable=" + STARTABLE + "\n");
        }
        Path jars = conf.resolveSibling("extensions-jars");
        Files.createDirectories(jars);
        // read as a resource, never loaded: its James superclasses are not on the demo's classpath
        String classFile = STARTABLE.replace('.', '/') + ".class";
        try (InputStream in = CustomerConf.class.getClassLoader().getResourceAsStream(classFile);
             JarOutputStream jar = new JarOutputStream(Files.newOutputStream(jars.resolve("local-mailboxes.jar")))) {
            if (in == null) {
                throw new IOException(classFile + " is not on the classpath: build the testing module first");
            }
            jar.putNextEntry(new JarEntry(classFile));
            in.transferTo(jar);
            jar.closeEntry();
        }
    }

    /**
     * A PKCS12 trust store in conf/ holding only the provider's certificate (exported from its
     * keystore), for {@code <trustStore>file://conf/provider-trust.p12</trustStore>}.
     */
    public static void trustProvider(Path conf, Path providerKeystore) throws IOException {
        Path pem = JamesLayout.exportCertificate(providerKeystore, conf.resolve("provider.pem"));
        try (InputStream in = Files.newInputStream(pem); OutputStream out = Files.newOutputStream(conf.resolve(TRUST_STORE))) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("provider", CertificateFactory.getInstance("X.509").generateCertificate(in));
            store.store(out, TRUST_STORE_SECRET.toCharArray());
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build a trust store from " + pem, e);
        }
    }
}
