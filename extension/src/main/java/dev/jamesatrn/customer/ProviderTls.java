package dev.jamesatrn.customer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

/**
 * The TLS client side towards one provider: its certificate checked against the configured trust
 * store (or the JVM's), and its name checked against the host we connect to (RFC 6125, the
 * "HTTPS" identification the JDK implements), unless the operator turned checks off.
 */
final class ProviderTls {
    private ProviderTls() {
    }

    static SslHandler clientHandler(Provider provider) throws GeneralSecurityException, IOException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustManagers(provider).getTrustManagers(), null);
        SSLEngine engine = context.createSSLEngine(provider.host(), provider.port());
        engine.setUseClientMode(true);
        if (provider.verifyCertificate()) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        SslHandler handler = new SslHandler(engine);
        handler.setHandshakeTimeoutMillis(provider.commandTimeout().toMillis());
        return handler;
    }

    private static TrustManagerFactory trustManagers(Provider provider) throws GeneralSecurityException, IOException {
        if (!provider.verifyCertificate()) {
            return InsecureTrustManagerFactory.INSTANCE;
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (provider.trust().trustStore().isEmpty()) {
            factory.init((KeyStore) null);
            return factory;
        }
        KeyStore store = KeyStore.getInstance(provider.trust().trustStoreType());
        try (InputStream in = Files.newInputStream(provider.trust().trustStore().get())) {
            store.load(in, provider.trust().trustStorePassword().map(String::toCharArray).orElse(null));
        }
        factory.init(store);
        return factory;
    }

    /** Where the certificate was checked against, for error texts. */
    static String trustSource(Provider provider) {
        if (!provider.verifyCertificate()) {
            return "certificate checks off";
        }
        return provider.trust().trustStore().map(path -> "trust store " + path).orElse("the JVM's default trust store");
    }

    /** True when a TLS failure is the provider's certificate (untrusted, expired, wrong name). */
    static boolean isCertificateProblem(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t.getClass().getName().contains("CertPath")
                || t.getClass().getName().contains("ValidatorException")) {
                return true;
            }
        }
        return false;
    }
}
