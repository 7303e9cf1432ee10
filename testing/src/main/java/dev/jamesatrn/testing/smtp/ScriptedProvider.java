package dev.jamesatrn.testing.smtp;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An RFC 2645 provider played by the test: each connection runs the test's script, as the
 * provider up to ATRN and then as the SMTP client of the reversed session. Built with a login and
 * secret, the CRAM-MD5 answer is checked against them ({@code 535} if wrong); without, any answer
 * passes. {@link #answering} is the script of a provider with nothing waiting. Whatever a script
 * throws is kept for the test to assert on; every line received and every ATRN command is recorded.
 */
public final class ScriptedProvider implements AutoCloseable {
    public static final String NOTHING_WAITING = "453 You have no mail";

    public interface Script {
        void run(Conversation conversation) throws Exception;
    }

    private record Credentials(String login, String secret) {
    }

    public final List<String> atrnLines = new CopyOnWriteArrayList<>();
    public final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final Optional<Credentials> credentials;
    private volatile CountDownLatch atrnReplies = new CountDownLatch(0);
    private volatile boolean closed;
    private final LoopbackServer server;

    public ScriptedProvider(Script script) throws IOException {
        this(Optional.empty(), script);
    }

    private ScriptedProvider(Optional<Credentials> credentials, Script script) throws IOException {
        this.credentials = credentials;
        this.server = LoopbackServer.start("scripted-provider", socket -> {
            socket.setSoTimeout(60_000);
            try {
                script.run(new Conversation(socket));
            } catch (Exception e) {
                if (!closed) {
                    failures.add(e);
                }
            }
        });
    }

    /**
     * A provider reduced to its script, in plain text: {@code 220}, EHLO with AUTH CRAM-MD5 and
     * ATRN, CRAM-MD5 checked against the secret, {@link #NOTHING_WAITING} to ATRN (held while
     * {@link #holdAtrnReplies()} asks), {@code 221} to QUIT, {@code 502} to anything else.
     */
    public static ScriptedProvider answering(String login, String secret) throws IOException {
        return new ScriptedProvider(Optional.of(new Credentials(login, secret)), Conversation::answerAll);
    }

    public int port() {
        return server.port();
    }

    /** Every line received so far, over all connections. */
    public List<String> received() {
        return List.copyOf(received);
    }

    /** From now on ATRN is answered only once {@link #releaseAtrnReplies()} is called. */
    public void holdAtrnReplies() {
        atrnReplies = new CountDownLatch(1);
    }

    public void releaseAtrnReplies() {
        atrnReplies.countDown();
    }

    /** ATRN commands received so far, over all connections. */
    public int atrnCount() {
        return atrnLines.size();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        atrnReplies.countDown();
        server.close();
    }

    /** One connection, seen from the provider's side. */
    public final class Conversation {
        public final Socket socket;
        public final InputStream in;
        public final OutputStream out;
        private final String challenge = "<" + System.nanoTime() + "@provider.test>";

        Conversation(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        public String line() throws IOException {
            String line = Wire.readTextLine(in);
            received.add(line);
            return line;
        }

        public void send(String line) throws IOException {
            Wire.writeLine(out, line);
        }

        public void sendRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** As the client after the turn: a command and the reply it gets. */
        public List<String> command(String line) throws IOException {
            send(line);
            return Wire.readReply(in);
        }

        public List<String> reply() throws IOException {
            return Wire.readReply(in);
        }

        /** Greeting, then the client's EHLO answered with these keywords; returns the EHLO line. */
        public String greetAndEhlo(String... keywords) throws IOException {
            send("220 provider.test ESMTP ODMR");
            String ehlo = line();
            ehloReply(keywords);
            return ehlo;
        }

        private void ehloReply(String... keywords) throws IOException {
            send(keywords.length == 0 ? "250 provider.test" : "250-provider.test");
            for (int i = 0; i < keywords.length; i++) {
                send((i == keywords.length - 1 ? "250 " : "250-") + keywords[i]);
            }
        }

        /** Up to a 250 to ATRN, then the customer's greeting as its SMTP server: the line is turned around. */
        public void turnAround() throws IOException {
            upToAtrn("250 OK now reversing the connection");
            reply();
        }

        /** Turned around, then as the customer's SMTP client up to the 354 for one recipient. */
        public void reversedUpToData(String rcpt) throws IOException {
            turnAround();
            command("EHLO provider.test");
            command("MAIL FROM:<sender@sender.test>");
            command("RCPT TO:<" + rcpt + ">");
            if (!command("DATA").get(0).startsWith("354")) {
                throw new IOException("no 354 to DATA");
            }
        }

        /** The provider's side up to ATRN, answering ATRN with {@code atrnReply}; returns the ATRN line. */
        public String upToAtrn(String atrnReply) throws IOException {
            String ehlo = greetAndEhlo("AUTH CRAM-MD5", "ATRN");
            if (!ehlo.startsWith("EHLO ")) {
                throw new IOException("expected EHLO, got " + ehlo);
            }
            String auth = line();
            if (!auth.equals("AUTH CRAM-MD5")) {
                throw new IOException("expected AUTH CRAM-MD5, got " + auth);
            }
            cramMd5();
            String atrn = line();
            atrn(atrn, atrnReply);
            return atrn;
        }

        /** The 334 challenge, then 235 to an answer the credentials (if any) allow, 535 to another. */
        private void cramMd5() throws IOException {
            send("334 " + Base64.getEncoder().encodeToString(challenge.getBytes(StandardCharsets.US_ASCII)));
            String answer = line();
            boolean allowed = credentials.map(c -> answer.equals(expected(c))).orElse(true);
            send(allowed ? "235 2.7.0 Authentication successful" : "535 5.7.8 Authentication credentials invalid");
        }

        /** Recorded before the reply, which {@link #holdAtrnReplies()} may hold. */
        private void atrn(String line, String reply) throws IOException {
            atrnLines.add(line);
            try {
                atrnReplies.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            send(reply);
        }

        /** {@link ScriptedProvider#answering}'s script: every command answered until QUIT or the client hangs up. */
        private void answerAll() throws IOException {
            send("220 provider.test ESMTP scripted ODMR");
            while (true) {
                String line;
                try {
                    line = line();
                } catch (EOFException e) {
                    return;
                }
                switch (line.split(" ", 2)[0].toUpperCase()) {
                    case "EHLO" -> ehloReply("AUTH CRAM-MD5", "ATRN");
                    case "AUTH" -> cramMd5();
                    case "ATRN" -> atrn(line, NOTHING_WAITING);
                    case "QUIT" -> {
                        send("221 2.0.0 Bye");
                        return;
                    }
                    default -> send("502 5.5.1 Not in this script");
                }
            }
        }

        private String expected(Credentials credentials) {
            try {
                Mac mac = Mac.getInstance("HmacMD5");
                mac.init(new SecretKeySpec(credentials.secret().getBytes(StandardCharsets.UTF_8), "HmacMD5"));
                String digest = HexFormat.of().formatHex(mac.doFinal(challenge.getBytes(StandardCharsets.US_ASCII)));
                return Base64.getEncoder().encodeToString((credentials.login() + " " + digest).getBytes(StandardCharsets.UTF_8));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
