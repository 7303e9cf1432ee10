package dev.jamesatrn.testing.smtp;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/** Sends mail to James's ordinary SMTP port as an anonymous internet peer would. */
public final class Inbound {
    private Inbound() {
    }

    /** @return the reply to each RCPT, then the reply to end-of-data (or "none" if no RCPT passed) */
    public static List<String> send(int port, String from, List<String> rcpts, byte[] message) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            Wire.readReply(in);
            Wire.writeLine(out, "EHLO sender.test");
            Wire.readReply(in);
            Wire.writeLine(out, "MAIL FROM:<" + from + ">");
            expect(Wire.readReply(in), "250");
            List<String> replies = new ArrayList<>();
            boolean any = false;
            for (String rcpt : rcpts) {
                Wire.writeLine(out, "RCPT TO:<" + rcpt + ">");
                String reply = String.join("\n", Wire.readReply(in));
                replies.add(reply);
                any |= reply.startsWith("250");
            }
            if (!any) {
                replies.add("none");
                Wire.writeLine(out, "QUIT");
                return replies;
            }
            Wire.writeLine(out, "DATA");
            expect(Wire.readReply(in), "354");
            out.write(Wire.dotStuff(message));
            out.flush();
            replies.add(String.join("\n", Wire.readReply(in)));
            Wire.writeLine(out, "QUIT");
            Wire.readReply(in);
            return replies;
        }
    }

    /** Several messages one after another on one connection; @return the reply to each end-of-data. */
    public static List<String> sendOnOneConnection(int port, String from, String rcpt, List<byte[]> messages) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            Wire.readReply(in);
            Wire.writeLine(out, "EHLO sender.test");
            Wire.readReply(in);
            List<String> replies = new ArrayList<>();
            for (byte[] message : messages) {
                Wire.writeLine(out, "MAIL FROM:<" + from + ">");
                expect(Wire.readReply(in), "250");
                Wire.writeLine(out, "RCPT TO:<" + rcpt + ">");
                expect(Wire.readReply(in), "250");
                Wire.writeLine(out, "DATA");
                expect(Wire.readReply(in), "354");
                out.write(Wire.dotStuff(message));
                out.flush();
                replies.add(String.join("\n", Wire.readReply(in)));
            }
            Wire.writeLine(out, "QUIT");
            Wire.readReply(in);
            return replies;
        }
    }

    private static void expect(List<String> reply, String code) throws IOException {
        if (!reply.get(reply.size() - 1).startsWith(code)) {
            throw new IOException("expected " + code + " but got " + reply);
        }
    }
}
