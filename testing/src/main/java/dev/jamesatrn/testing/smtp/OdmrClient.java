package dev.jamesatrn.testing.smtp;

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
public final class OdmrClient implements AutoCloseable {
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    public final List<String> greeting;

    public OdmrClient(int port) throws IOException {
        this(new Socket("127.0.0.1", port));
    }

    /** From a chosen local address (any of 127.0.0.0/8 on Linux), to act as a different client. */
    public OdmrClient(int port, InetAddress localAddress) throws IOException {
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

    public List<String> command(String line) throws IOException {
        Wire.writeLine(out, line);
        return Wire.readReply(in);
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public List<String> readReply() throws IOException {
        return Wire.readReply(in);
    }

    public static String code(List<String> reply) {
        return reply.get(reply.size() - 1).substring(0, 3);
    }

    public List<String> authCramMd5(String login, String secret) throws Exception {
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

    public List<String> authPlain(String login, String secret) throws IOException {
        return command("AUTH PLAIN " + Base64.getEncoder().encodeToString(("\0" + login + "\0" + secret).getBytes(StandardCharsets.UTF_8)));
    }

    /** TLS from the first byte, as on the ODMR-over-TLS port (fetchmail's ssl option). */
    public static OdmrClient implicitTls(int port) throws Exception {
        SSLSocket tls = (SSLSocket) trustingEveryone().getSocketFactory().createSocket("127.0.0.1", port);
        tls.setUseClientMode(true);
        tls.startHandshake();
        return new OdmrClient(tls);
    }

    public List<String> startTls() throws Exception {
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

    public boolean isEncrypted() {
        return socket instanceof SSLSocket;
    }

    /** After ATRN's 250: act as the customer's SMTP server on this same connection. */
    public void serve(CustomerServer server) throws IOException {
        server.serve(in, out, true);
    }

    /** True when the provider closes the connection: anything it still sends first is skipped. */
    public boolean closedByPeer() {
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
