package dev.jamesatrn.testing.smtp;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/** Sends mail to James's ordinary SMTP port as an anonymous internet peer would. */
public final class Inbound implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private Inbound(Socket socket) throws IOException {
        this.socket = socket;
        try {
            socket.setSoTimeout(30_000);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            Wire.readReply(in);
            command("EHLO sender.test");
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** A session from 127.0.0.1, past the greeting and EHLO. */
    public static Inbound connect(int port) throws IOException {
        return new Inbound(new Socket("127.0.0.1", port));
    }

    /** A session from a chosen local address (any of 127.0.0.0/8 on Linux), past the greeting and EHLO. */
    public static Inbound connect(int port, String localAddress) throws IOException {
        return new Inbound(new Socket(InetAddress.getByName("127.0.0.1"), port, InetAddress.getByName(localAddress), 0));
    }

    /** @return the reply, its lines joined by "\n" */
    public String command(String line) throws IOException {
        Wire.writeLine(out, line);
        return String.join("\n", Wire.readReply(in));
    }

    /** One RCPT per recipient; @return the reply to each. */
    public List<String> rcptTo(List<String> recipients) throws IOException {
        List<String> replies = new ArrayList<>();
        for (String rcpt : recipients) {
            replies.add(command("RCPT TO:<" + rcpt + ">"));
        }
        return replies;
    }

    public static boolean anyAccepted(List<String> rcptReplies) {
        return rcptReplies.stream().anyMatch(reply -> reply.startsWith("250"));
    }

    /** DATA, the message dot-stuffed; @return the reply to end-of-data. */
    public String data(byte[] message) throws IOException {
        expect(command("DATA"), "354");
        out.write(Wire.dotStuff(message));
        out.flush();
        return String.join("\n", Wire.readReply(in));
    }

    /** QUIT, without waiting for James's 221. */
    public void quit() throws IOException {
        Wire.writeLine(out, "QUIT");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** @return the reply to each RCPT, then the reply to end-of-data (or "none" if no RCPT passed) */
    public static List<String> send(int port, String from, List<String> rcpts, byte[] message) throws IOException {
        try (Inbound session = connect(port)) {
            expect(session.command("MAIL FROM:<" + from + ">"), "250");
            List<String> replies = new ArrayList<>(session.rcptTo(rcpts));
            if (!anyAccepted(replies)) {
                replies.add("none");
                session.quit();
                return replies;
            }
            replies.add(session.data(message));
            session.command("QUIT");
            return replies;
        }
    }

    /** Several messages one after another on one connection; @return the reply to each end-of-data. */
    public static List<String> sendOnOneConnection(int port, String from, String rcpt, List<byte[]> messages) throws IOException {
        try (Inbound session = connect(port)) {
            List<String> replies = new ArrayList<>();
            for (byte[] message : messages) {
                expect(session.command("MAIL FROM:<" + from + ">"), "250");
                expect(session.command("RCPT TO:<" + rcpt + ">"), "250");
                replies.add(session.data(message));
            }
            session.command("QUIT");
            return replies;
        }
    }

    private static void expect(String reply, String code) throws IOException {
        if (!reply.substring(reply.lastIndexOf('\n') + 1).startsWith(code)) {
            throw new IOException("expected " + code + " but got " + List.of(reply.split("\n")));
        }
    }
}
