package dev.jamesatrn.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import dev.jamesatrn.testing.james.JamesLayout;
import dev.jamesatrn.testing.smtp.CustomerServer;
import dev.jamesatrn.testing.smtp.Wire;

/**
 * An MX that offers STARTTLS (RFC 3207) and takes the mail only inside TLS: the plain part
 * (greeting, EHLO, STARTTLS) is played here, then {@link CustomerServer} serves the session
 * inside TLS. {@link #tlsSessions()} counts the handshakes that succeeded.
 */
final class StartTlsSink implements AutoCloseable {
    final CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
    private final ServerSocket server;
    private final SSLContext context;
    private final AtomicInteger tlsSessions = new AtomicInteger();

    StartTlsSink() throws Exception {
        Path keystore = Files.createTempDirectory("tls-sink").resolve("keystore");
        JamesLayout.makeKeystore(keystore);
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            keys.load(in, JamesLayout.KEYSTORE_SECRET.toCharArray());
        }
        KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        managers.init(keys, JamesLayout.KEYSTORE_SECRET.toCharArray());
        context = SSLContext.getInstance("TLS");
        context.init(managers.getKeyManagers(), null, null);
        server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "starttls-sink");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    int tlsSessions() {
        return tlsSessions.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try (Socket socket = server.accept()) {
                socket.setSoTimeout(30_000);
                serve(socket);
            } catch (IOException e) {
                // connection over, or sink closed
            }
        }
    }

    private void serve(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        Wire.writeLine(out, "220 mx.tls.example ESMTP");
        if (!Wire.readTextLine(in).startsWith("EHLO")) {
            return;
        }
        out.write("250-mx.tls.example\r\n250-STARTTLS\r\n250 8BITMIME\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        if (!Wire.readTextLine(in).equalsIgnoreCase("STARTTLS")) {
            return;
        }
        Wire.writeLine(out, "220 2.0.0 ready to start TLS");
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
        tls.setUseClientMode(false);
        tls.startHandshake();
        tlsSessions.incrementAndGet();
        customer.serve(tls.getInputStream(), tls.getOutputStream(), false);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
