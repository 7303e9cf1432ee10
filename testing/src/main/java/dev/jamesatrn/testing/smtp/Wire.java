package dev.jamesatrn.testing.smtp;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Byte-level SMTP line I/O for the test peers: no charset decoding of message data. */
public final class Wire {
    private Wire() {
    }

    /** One line including its CRLF/LF, or EOF. */
    public static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (line.size() == 0) {
                    throw new EOFException("connection closed");
                }
                return line.toByteArray();
            }
            line.write(b);
            if (b == '\n') {
                return line.toByteArray();
            }
        }
    }

    public static String readTextLine(InputStream in) throws IOException {
        String line = new String(readLine(in), StandardCharsets.UTF_8);
        return line.replaceAll("[\r\n]+$", "");
    }

    /** A whole (possibly multi-line) reply; returns its lines. */
    public static List<String> readReply(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readTextLine(in);
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return lines;
            }
        }
    }

    public static void writeLine(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Dot-stuffs and terminates a message body for DATA (RFC 5321 section 4.5.2). */
    public static byte[] dotStuff(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean lineStart = true;
        for (byte b : message) {
            if (lineStart && b == '.') {
                out.write('.');
            }
            out.write(b);
            lineStart = b == '\n';
        }
        if (!lineStart) {
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** Reads DATA lines until the lone dot and undoes the dot-stuffing. */
    public static byte[] readData(InputStream in) throws IOException {
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        while (true) {
            byte[] line = readLine(in);
            if (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n') {
                return message.toByteArray();
            }
            int skip = line.length > 0 && line[0] == '.' ? 1 : 0;
            message.write(line, skip, line.length - skip);
        }
    }
}
