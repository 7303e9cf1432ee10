package dev.jamesatrn.it;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** A scripted ODMR customer over a real socket: EHLO, STARTTLS, AUTH, ATRN, then the server role. */
final class OdmrClient implements AutoCloseable {
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    final List<String> greeting;

    OdmrClient(int port) throws IOException {
        this(new Socket("127.0.0.1", port));
    }

    /** From a chosen local address (any of 127.0.0.0/8 on Linux), to act as a different client. */
    OdmrClient(int port, InetAddress localAddress) throws IOException {
        this(new Socket(InetAddress.getByName("127.0.0.1"), port, localAddress, 0));
    }

    private OdmrClient(Socket connected) throws IOException {
        socket = connected;
        try {
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            greeting = Wire.readReply(in);
        } catch (IOException e) {
            // a server over its connection limit closes before its greeting: no socket left behind
            socket.close();
            throw e;
        }
    }

    List<String> command(String line) throws IOException {
        Wire.writeLine(out, line);
        return Wire.readReply(in);
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    List<String> readReply() throws IOException {
        return Wire.readReply(in);
    }

    static String code(List<String> reply) {
        return reply.get(reply.size() - 1).substring(0, 3);
    }

    List<String> authCramMd5(String login, String secret) throws Exception {
        List<String> challenge = command("AUTH CRAM-MD5");
        if (!code(challenge).equals("334")) {
            return challenge;
        }
        byte[] nonce = Base64.getDecoder().decode(challenge.get(0).substring(4).trim());
        Mac mac = Mac.getInstance("HmacMD5");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
        String digest = HexFormat.of().formatHex(mac.doFinal(nonce));
        return command(Base64.getEncoder().encodeToString((login + " " + digest).getBytes(StandardCharsets.UTF_8)));
    }

    List<String> authPlain(String login, String secret) throws IOException {
        return command("AUTH PLAIN " + Base64.getEncoder().encodeToString(("\0" + login + "\0" + secret).getBytes(StandardCharsets.UTF_8)));
    }

    /** TLS from the first byte, as on the ODMR-over-TLS port (fetchmail's ssl option). */
    static OdmrClient implicitTls(int port) throws Exception {
        SSLSocket tls = (SSLSocket) trustingEveryone().getSocketFactory().createSocket("127.0.0.1", port);
        tls.setUseClientMode(true);
        tls.startHandshake();
        return new OdmrClient(tls);
    }

    List<String> startTls() throws Exception {
        List<String> reply = command("STARTTLS");
        if (!code(reply).equals("220")) {
            return reply;
        }
        SSLSocket tls = (SSLSocket) trustingEveryone().getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
        tls.setUseClientMode(true);
        tls.startHandshake();
        socket = tls;
        in = new BufferedInputStream(tls.getInputStream());
        out = tls.getOutputStream();
        return reply;
    }

    private static SSLContext trustingEveryone() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                // the test keystore is self-signed
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }

    boolean isEncrypted() {
        return socket instanceof SSLSocket;
    }

    /** After ATRN's 250: act as the customer's SMTP server on this same connection. */
    void serve(CustomerServer server) throws IOException {
        server.serve(in, out, true);
    }

    /** True when the provider closes the connection: anything it still sends first is skipped. */
    boolean closedByPeer() {
        try {
            while (in.read() >= 0) {
                // skip pipelined commands we are not going to answer
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
