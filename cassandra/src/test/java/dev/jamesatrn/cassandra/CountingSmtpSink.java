package dev.jamesatrn.cassandra;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The customer's MTA for the two-node tests: one SMTP server both James nodes deliver to, which
 * records the Message-ID of every message it acknowledged with 250 after the final dot, and
 * which node delivered it (from the EHLO name). It can take its time over each end-of-data
 * (so that drains last across lease renewals) and hang up after a number of messages per
 * connection (so that the customer comes back, possibly through the other node).
 */
final class CountingSmtpSink implements AutoCloseable {
    record Accepted(String messageId, String fromNode) {
    }

    private final ServerSocket server;
    private final Duration endOfDataDelay;
    private final int messagesPerConnection;
    private final List<Accepted> accepted = new CopyOnWriteArrayList<>();

    CountingSmtpSink(Duration endOfDataDelay, int messagesPerConnection) throws IOException {
        this.endOfDataDelay = endOfDataDelay;
        this.messagesPerConnection = messagesPerConnection;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "counting-sink");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    List<Accepted> accepted() {
        return accepted;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread connection = new Thread(() -> serve(socket), "counting-sink-connection");
                connection.setDaemon(true);
                connection.start();
            } catch (IOException e) {
                // closed: the test is over
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(30_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = socket.getOutputStream();
            reply(out, "220 customer.example ESMTP counting sink");
            String node = "?";
            int messages = 0;
            String line;
            while ((line = in.readLine()) != null) {
                String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase(Locale.ROOT) : line.toUpperCase(Locale.ROOT);
                switch (verb) {
                    case "EHLO", "HELO" -> {
                        node = line.substring(4).trim();
                        reply(out, "250 customer.example");
                    }
                    case "MAIL", "RCPT", "RSET", "NOOP" -> reply(out, "250 OK");
                    case "DATA" -> {
                        reply(out, "354 go ahead");
                        String messageId = readMessage(in);
                        pause();
                        accepted.add(new Accepted(messageId, node));
                        reply(out, "250 OK queued");
                        messages++;
                        if (messages == messagesPerConnection) {
                            return; // the customer hangs up; it will ATRN again
                        }
                    }
                    case "QUIT" -> {
                        reply(out, "221 bye");
                        return;
                    }
                    default -> reply(out, "502 5.5.1 not here");
                }
            }
        } catch (IOException e) {
            // the drainer dropped the connection: nothing more was acknowledged
        }
    }

    private static String readMessage(BufferedReader in) throws IOException {
        String messageId = "(none)";
        String line;
        while ((line = in.readLine()) != null && !line.equals(".")) {
            if (line.regionMatches(true, 0, "Message-ID:", 0, "Message-ID:".length())) {
                messageId = line.substring("Message-ID:".length()).trim();
            }
        }
        return messageId;
    }

    private void pause() {
        if (!endOfDataDelay.isZero()) {
            try {
                Thread.sleep(endOfDataDelay.toMillis()); // the customer's MTA taking its time over a message
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void reply(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
