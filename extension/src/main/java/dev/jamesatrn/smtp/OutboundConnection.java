package dev.jamesatrn.smtp;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A new outbound SMTP connection (ETRN, RFC 1985) with plain blocking sockets: it only ever runs
 * on a session thread, so a thread per connection is simpler than another Netty client and costs
 * nothing on the event loops. Writes get the same timeouts as reads through a watchdog that
 * closes the socket, because a blocking socket write has no timeout of its own.
 */
public final class OutboundConnection implements SmtpPeer {
    // RFC 5321 section 4.5.3.1.5 allows 512 octets a reply line; far more is not SMTP.
    private static final int MAX_REPLY_LINE = 8192;
    private static final int BUFFER = 64 * 1024;

    private final String peerName;
    private final ScheduledExecutorService watchdog;
    // The TCP socket itself: closing an SSLSocket waits for the lock a blocked write holds, so the
    // watchdog closes the layer below, which makes the blocked write fail at once.
    private final Socket tcp;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private boolean tls;

    private OutboundConnection(Socket socket, String peerName, ScheduledExecutorService watchdog) throws IOException {
        this.peerName = peerName;
        this.watchdog = watchdog;
        this.tcp = socket;
        attach(socket);
    }

    /** Connects within {@code timeout}; the caller reads the 220 greeting like any reply. */
    public static OutboundConnection connect(InetSocketAddress address, Duration timeout, ScheduledExecutorService watchdog)
            throws Broken {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            return new OutboundConnection(socket, address.getHostString() + ":" + address.getPort(), watchdog);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new Broken("cannot connect to " + address.getHostString() + ":" + address.getPort() + ": " + e.getMessage());
        }
    }

    private void attach(Socket connected) throws IOException {
        this.socket = connected;
        this.in = new BufferedInputStream(connected.getInputStream(), BUFFER);
        this.out = new BufferedOutputStream(connected.getOutputStream(), BUFFER);
    }

    public String peerName() {
        return peerName;
    }

    @Override
    public boolean canStartTls() {
        return !tls;
    }

    /**
     * Opportunistic TLS (RFC 3207) after the peer's 220 to STARTTLS. The certificate is not
     * checked, as for Postfix's {@code smtp_tls_security_level = may}: an MX name from DNS proves
     * nothing, and refusing would only push the mail back to clear text.
     */
    @Override
    public void startTls() throws Broken {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new AnyCertificate()}, new SecureRandom());
            String host = peerName.substring(0, peerName.lastIndexOf(':'));
            SSLSocket secured = (SSLSocket) context.getSocketFactory().createSocket(socket, host, socket.getPort(), true);
            secured.setUseClientMode(true);
            secured.startHandshake();
            attach(secured);
            tls = true;
        } catch (Exception e) {
            close();
            throw new Broken("TLS handshake with " + peerName + " failed: " + e.getMessage());
        }
    }

    @Override
    public boolean isTls() {
        return tls;
    }

    @Override
    public void sendAll(List<String> commandLines) throws Broken {
        StringBuilder lines = new StringBuilder();
        commandLines.forEach(line -> lines.append(line).append("\r\n"));
        byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        write(bytes, bytes.length, Duration.ofMinutes(5), true);
    }

    @Override
    public Reply await(Duration timeout, String awaiting) throws Broken {
        // Message data is written unflushed (it ends with the "." line): whatever is waiting for
        // a reply must be on the wire first.
        write(new byte[0], 0, Duration.ofMinutes(5), true);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            return ReplyReader.read(() -> readLine(deadline, timeout, awaiting), awaiting, peerName);
        } catch (Broken e) {
            // Nothing more is read from a peer we gave up on, however much it still sends.
            close();
            throw e;
        }
    }

    private String readLine(long deadline, Duration timeout, String awaiting) throws Broken {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException();
                }
                socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
                int b = in.read();
                if (b < 0) {
                    throw new Broken("connection closed by " + peerName + " while waiting for " + awaiting);
                }
                if (b == '\n') {
                    byte[] bytes = line.toByteArray();
                    int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, end, StandardCharsets.UTF_8);
                }
                if (line.size() >= MAX_REPLY_LINE) {
                    throw new Broken("a reply line from " + peerName + " is longer than " + MAX_REPLY_LINE + " bytes");
                }
                line.write(b);
            }
        } catch (SocketTimeoutException e) {
            throw new Broken("no reply to " + awaiting + " from " + peerName + " within " + timeout.toSeconds() + " s");
        } catch (IOException e) {
            throw new Broken("connection to " + peerName + " failed while waiting for " + awaiting + ": " + e.getMessage());
        }
    }

    @Override
    public void sendData(byte[] chunk, int length, Duration timeout) throws Broken {
        write(chunk, length, timeout, false);
    }

    private void write(byte[] bytes, int length, Duration timeout, boolean flush) throws Broken {
        ScheduledFuture<?> guard = watchdog.schedule(() -> closeQuietly(tcp), timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            out.write(bytes, 0, length);
            if (flush) {
                out.flush();
            }
        } catch (IOException e) {
            throw new Broken(tcp.isClosed() ? peerName + " read nothing for " + timeout.toSeconds() + " s"
                : "connection to " + peerName + " failed while sending: " + e.getMessage());
        } finally {
            guard.cancel(false);
        }
    }

    @Override
    public void close() {
        closeQuietly(socket);
        closeQuietly(tcp);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to do with a socket that cannot even be closed
        }
    }

    private static final class AnyCertificate implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
