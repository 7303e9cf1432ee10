package dev.jamesatrn.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An RFC 2645 provider reduced to its script, over a real socket and in plain text: {@code 220},
 * EHLO with AUTH CRAM-MD5 and ATRN, CRAM-MD5 checked against the secret, {@code 453 You have no
 * mail} to ATRN (held until {@link #releaseAtrnReplies()} when asked to), {@code 221} to QUIT.
 * Connections are served one after another; every line received is recorded.
 */
final class ScriptedOdmrProvider implements AutoCloseable {
    static final String NOTHING_WAITING = "453 You have no mail";

    private final ServerSocket server;
    private final String login;
    private final String secret;
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile CountDownLatch atrnReplies = new CountDownLatch(0);
    private final AtomicInteger atrnReceived = new AtomicInteger();

    ScriptedOdmrProvider(String login, String secret) throws IOException {
        this.login = login;
        this.secret = secret;
        this.server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        this.thread = new Thread(this::serve, "scripted-odmr-provider");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return server.getLocalPort();
    }

    List<String> received() {
        return List.copyOf(received);
    }

    /** From now on ATRN is answered only once {@link #releaseAtrnReplies()} is called. */
    void holdAtrnReplies() {
        atrnReplies = new CountDownLatch(1);
    }

    void releaseAtrnReplies() {
        atrnReplies.countDown();
    }

    /** ATRN commands received so far, over all connections. */
    int atrnCount() {
        return atrnReceived.get();
    }

    private void serve() {
        while (!server.isClosed()) {
            try (Socket socket = server.accept()) {
                socket.setSoTimeout(60_000);
                session(new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)),
                    socket.getOutputStream());
            } catch (IOException | InterruptedException e) {
                // the customer hung up, or the test is over: serve the next connection
            }
        }
    }

    private void session(BufferedReader in, OutputStream out) throws IOException, InterruptedException {
        String challenge = "<" + System.nanoTime() + "@provider.test>";
        reply(out, "220 provider.test ESMTP scripted ODMR");
        String line;
        while ((line = in.readLine()) != null) {
            received.add(line);
            String verb = line.split(" ", 2)[0].toUpperCase();
            switch (verb) {
                case "EHLO":
                    reply(out, "250-provider.test\r\n250-AUTH CRAM-MD5\r\n250 ATRN");
                    break;
                case "AUTH":
                    reply(out, "334 " + Base64.getEncoder().encodeToString(challenge.getBytes(StandardCharsets.US_ASCII)));
                    String answer = in.readLine();
                    received.add(answer);
                    reply(out, answer != null && answer.equals(expected(challenge)) ? "235 2.7.0 Authentication successful"
                        : "535 5.7.8 Authentication credentials invalid");
                    break;
                case "ATRN":
                    atrnReceived.incrementAndGet();
                    atrnReplies.await();
                    reply(out, NOTHING_WAITING);
                    break;
                case "QUIT":
                    reply(out, "221 2.0.0 Bye");
                    return;
                default:
                    reply(out, "502 5.5.1 Not in this script");
            }
        }
    }

    private String expected(String challenge) {
        try {
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
            String digest = HexFormat.of().formatHex(mac.doFinal(challenge.getBytes(StandardCharsets.US_ASCII)));
            return Base64.getEncoder().encodeToString((login + " " + digest).getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void reply(OutputStream out, String lines) throws IOException {
        out.write((lines + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        atrnReplies.countDown();
        server.close();
    }
}
