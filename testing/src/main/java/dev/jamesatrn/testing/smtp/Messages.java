package dev.jamesatrn.testing.smtp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Test messages, built byte by byte so their exact bytes can be compared after delivery. */
public final class Messages {
    private Messages() {
    }

    public static byte[] simple(String subject, String to) {
        return ("From: sender@sender.test\r\nTo: " + to + "\r\nSubject: " + subject
            + "\r\nMessage-ID: <" + subject.replace(' ', '-') + "@sender.test>\r\n\r\nHello " + subject + "\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    }

    /** 8-bit body, a 2,000-byte line, and lines starting with dots. */
    public static byte[] tricky(String to) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("From: sender@sender.test\r\nTo: " + to + "\r\nSubject: tricky\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(new byte[] {'c', 'a', 'f', (byte) 0xE9, ' ', (byte) 0xFC, (byte) 0xE8, '\r', '\n'});
        out.writeBytes(".leading dot\r\n..two dots\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
        char[] longLine = new char[2000];
        Arrays.fill(longLine, 'x');
        out.writeBytes((new String(longLine) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes("last line\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** Everything after the header/body separator. */
    public static byte[] body(byte[] message) {
        for (int i = 0; i + 3 < message.length; i++) {
            if (message[i] == '\r' && message[i + 1] == '\n' && message[i + 2] == '\r' && message[i + 3] == '\n') {
                return Arrays.copyOfRange(message, i + 4, message.length);
            }
        }
        throw new IllegalArgumentException("no header/body separator");
    }

    /** The body as swaks sends a message file: swaks ends DATA with one more CRLF than the file has. */
    public static byte[] bodyAsSentBySwaks(byte[] message) {
        return (new String(body(message), StandardCharsets.ISO_8859_1) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    public static String subject(byte[] message) {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        int start = text.indexOf("Subject: ") + "Subject: ".length();
        return text.substring(start, text.indexOf('\r', start));
    }
}
