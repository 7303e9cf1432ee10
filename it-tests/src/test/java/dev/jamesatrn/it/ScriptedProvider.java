package dev.jamesatrn.it;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.jamesatrn.testing.smtp.Wire;

/**
 * An RFC 2645 provider played by the test, one connection at a time: greeting, EHLO with ATRN and
 * AUTH CRAM-MD5 (any answer passes), ATRN, then what the script does as the SMTP client of the
 * reversed session. Whatever the script throws is kept for the test to assert on.
 */
final class ScriptedProvider implements AutoCloseable {
    interface Script {
        void run(Conversation conversation) throws Exception;
    }

    static final class Conversation {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        private final List<String> atrnLines;

        Conversation(Socket socket, List<String> atrnLines) throws IOException {
            this.socket = socket;
            this.atrnLines = atrnLines;
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        String line() throws IOException {
            return Wire.readTextLine(in);
        }

        void send(String line) throws IOException {
            Wire.writeLine(out, line);
        }

        void sendRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** As the client after the turn: a command and the reply it gets. */
        List<String> command(String line) throws IOException {
            send(line);
            return Wire.readReply(in);
        }

        List<String> reply() throws IOException {
            return Wire.readReply(in);
        }

        /** Greeting, then the client's EHLO answered with these keywords; returns the EHLO line. */
        String greetAndEhlo(String... keywords) throws IOException {
            send("220 provider.test ESMTP ODMR");
            String ehlo = line();
            send(keywords.length == 0 ? "250 provider.test" : "250-provider.test");
            for (int i = 0; i < keywords.length; i++) {
                send((i == keywords.length - 1 ? "250 " : "250-") + keywords[i]);
            }
            return ehlo;
        }

        /** Turned around, then as the customer's SMTP client up to the 354 for one recipient. */
        void reversedUpToData(String rcpt) throws IOException {
            upToAtrn("250 OK now reversing the connection");
            reply();
            command("EHLO provider.test");
            command("MAIL FROM:<sender@sender.test>");
            command("RCPT TO:<" + rcpt + ">");
            if (!command("DATA").get(0).startsWith("354")) {
                throw new IOException("no 354 to DATA");
            }
        }

        /** The provider's side up to ATRN, answering ATRN with {@code atrnReply}; returns the ATRN line. */
        String upToAtrn(String atrnReply) throws IOException {
            String ehlo = greetAndEhlo("AUTH CRAM-MD5", "ATRN");
            if (!ehlo.startsWith("EHLO ")) {
                throw new IOException("expected EHLO, got " + ehlo);
            }
            String auth = line();
            if (!auth.equals("AUTH CRAM-MD5")) {
                throw new IOException("expected AUTH CRAM-MD5, got " + auth);
            }
            send("334 " + java.util.Base64.getEncoder().encodeToString("<1.2@provider.test>".getBytes(StandardCharsets.US_ASCII)));
            line();
            send("235 2.7.0 Authentication successful");
            String atrn = line();
            atrnLines.add(atrn);
            send(atrnReply);
            return atrn;
        }
    }

    private final ServerSocket server;
    final List<String> atrnLines = new CopyOnWriteArrayList<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();

    ScriptedProvider(Script script) {
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                    socket.setSoTimeout(60_000);
                    script.run(new Conversation(socket, atrnLines));
                } catch (Exception e) {
                    if (!server.isClosed()) {
                        failures.add(e);
                    }
                }
            }
        }, "scripted-provider");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
