package dev.jamesatrn.testing.smtp;

import java.io.BufferedOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The customer's SMTP server role, as a test peer: after ATRN's 250 (or as a plain sink for
 * fetchmail) it greets, answers EHLO, and records each message exactly as received. A
 * {@link Script} can change any reply or cut the connection at any step.
 */
public final class CustomerServer {
    /** {@code length}: bytes received, also when {@link #discardingData()} dropped the data itself. */
    public record Received(String mailFrom, List<String> rcptTo, byte[] data, int length) {
    }

    /** Decides the reply to a command; empty means hang up instead of replying. */
    public interface Script {
        Optional<String> reply(String step, int messageIndex, String defaultReply);

        Script ACCEPT_ALL = (step, index, defaultReply) -> Optional.of(defaultReply);
    }

    public final List<Received> received = new CopyOnWriteArrayList<>();
    public final List<String> commands = new CopyOnWriteArrayList<>();
    public final List<Received> unacknowledged = new CopyOnWriteArrayList<>();
    private final Script script;
    private final Consumer<Received> onReceived;
    private volatile boolean keepData = true;

    public CustomerServer(Script script) {
        this(script, message -> {
        });
    }

    /**
     * A customer that stops at {@code step} (before replying, or before reading the data), each
     * time it comes to it: counts down {@code reached}, then waits for {@code release}.
     */
    public static CustomerServer stoppingAt(String step, CountDownLatch reached, CountDownLatch release) {
        return stoppingAt(step, -1, reached, release);
    }

    /** The same, at {@code step} of message {@code messageIndex} (0 first) of the session only. */
    public static CustomerServer stoppingAt(String step, int messageIndex, CountDownLatch reached, CountDownLatch release) {
        return new CustomerServer((current, index, reply) -> {
            if (current.equals(step) && (messageIndex < 0 || index == messageIndex)) {
                reached.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Optional.of(reply);
        });
    }

    public CustomerServer(Script script, Consumer<Received> onReceived) {
        this.script = script;
        this.onReceived = onReceived;
    }

    /** For benchmarks: count messages but do not keep their bytes. */
    public CustomerServer discardingData() {
        keepData = false;
        return this;
    }

    /** Serves one SMTP session; returns normally on QUIT or when the script hangs up. */
    public void serve(InputStream rawIn, OutputStream rawOut, boolean greet) throws IOException {
        // RFC 2920 section 3.2: replies are sent once no more commands are waiting, so a pipelined
        // group is answered in one segment (reply by reply, Nagle's algorithm and delayed ACKs
        // would add 40 ms per group).
        BufferedOutputStream buffered = new BufferedOutputStream(rawOut, 16384);
        boolean[] unsent = {false};
        OutputStream out = new FilterOutputStream(buffered) {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                buffered.write(bytes, offset, length);
                unsent[0] = true;
            }

            @Override
            public void flush() {
                // deferred to the next read that would wait
            }
        };
        InputStream in = new FilterInputStream(rawIn) {
            @Override
            public int read() throws IOException {
                sendIfIdle();
                return super.read();
            }

            @Override
            public int read(byte[] bytes, int offset, int length) throws IOException {
                sendIfIdle();
                return super.read(bytes, offset, length);
            }

            // available() asks the kernel: only when replies are waiting to go out
            private void sendIfIdle() throws IOException {
                if (unsent[0] && super.available() == 0) {
                    buffered.flush();
                    unsent[0] = false;
                }
            }
        };
        try {
            converse(in, out, greet);
        } finally {
            buffered.flush();
        }
    }

    private void converse(InputStream in, OutputStream out, boolean greet) throws IOException {
        int index = 0;
        String mailFrom = null;
        boolean inTransaction = false;
        List<String> rcpts = new ArrayList<>();
        if (greet && !say(out, "greeting", index, "220 customer.example ESMTP ready")) {
            return;
        }
        while (true) {
            String line = Wire.readTextLine(in);
            commands.add(line);
            String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
            switch (verb) {
                case "EHLO" -> {
                    if (!say(out, "EHLO", index, "250-customer.example\r\n250-SIZE 100000000\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES")) {
                        return;
                    }
                }
                case "HELO" -> {
                    if (!say(out, "HELO", index, "250 customer.example")) {
                        return;
                    }
                }
                case "MAIL" -> {
                    String path = line.substring(line.indexOf(':') + 1).trim();
                    mailFrom = path.contains(">") ? path.substring(0, path.indexOf('>') + 1) : path;
                    rcpts.clear();
                    Optional<String> reply = script.reply("MAIL", index, "250 2.1.0 OK");
                    if (reply.isEmpty()) {
                        return;
                    }
                    inTransaction = reply.get().startsWith("2");
                    Wire.writeLine(out, reply.get());
                }
                case "RCPT" -> {
                    if (!inTransaction) {
                        // as a real server answers a pipelined RCPT after a refused MAIL
                        Wire.writeLine(out, "503 5.5.1 MAIL first");
                        continue;
                    }
                    String rcpt = line.substring(line.indexOf(':') + 1).trim();
                    Optional<String> reply = script.reply("RCPT " + rcpt, index, "250 2.1.5 OK");
                    if (reply.isEmpty()) {
                        return;
                    }
                    if (reply.get().startsWith("2")) {
                        rcpts.add(rcpt);
                    }
                    Wire.writeLine(out, reply.get());
                }
                case "DATA" -> {
                    if (rcpts.isEmpty()) {
                        Wire.writeLine(out, "503 5.5.1 no valid recipients");
                        continue;
                    }
                    if (!say(out, "DATA", index, "354 go ahead")) {
                        return;
                    }
                    Optional<String> cut = script.reply("DATA-STREAM", index, "");
                    if (cut.isEmpty()) {
                        // hang up after reading a little of the body
                        Wire.readLine(in);
                        return;
                    }
                    byte[] data = Wire.readData(in);
                    Optional<String> reply = script.reply("END", index, "250 2.0.0 queued");
                    if (reply.isEmpty()) {
                        // the whole message arrived but the provider never hears our 250
                        unacknowledged.add(new Received(mailFrom, List.copyOf(rcpts), data, data.length));
                        return;
                    }
                    if (reply.get().startsWith("2")) {
                        Received message = new Received(mailFrom, List.copyOf(rcpts), keepData ? data : new byte[0], data.length);
                        received.add(message);
                        onReceived.accept(message);
                    }
                    Wire.writeLine(out, reply.get());
                    index++;
                    inTransaction = false;
                    rcpts.clear();
                }
                case "RSET" -> {
                    inTransaction = false;
                    rcpts.clear();
                    Wire.writeLine(out, "250 2.0.0 reset");
                }
                case "NOOP" -> Wire.writeLine(out, "250 2.0.0 OK");
                case "QUIT" -> {
                    Wire.writeLine(out, "221 2.0.0 bye");
                    return;
                }
                default -> Wire.writeLine(out, "502 5.5.1 unknown");
            }
        }
    }

    private boolean say(OutputStream out, String step, int index, String defaultReply) throws IOException {
        Optional<String> reply = script.reply(step, index, defaultReply);
        if (reply.isEmpty()) {
            return false;
        }
        Wire.writeLine(out, reply.get());
        return true;
    }
}
