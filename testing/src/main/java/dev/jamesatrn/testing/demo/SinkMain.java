package dev.jamesatrn.testing.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import dev.jamesatrn.testing.smtp.SmtpSink;

/**
 * For trying the demo by hand: the customer's MTA behind fetchmail, on 127.0.0.1 (default port
 * 2526). Every message it receives is written, byte for byte, to a file of its own.
 */
public final class SinkMain {
    private SinkMain() {
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 2526;
        Path folder = Path.of(args.length > 1 ? args[1] : "target/sink").toAbsolutePath();
        Files.createDirectories(folder);
        AtomicInteger count = new AtomicInteger();
        try (SmtpSink sink = new SmtpSink(port, message -> {
            Path file = folder.resolve(String.format("%04d.eml", count.incrementAndGet()));
            try {
                Files.write(file, message.data());
                System.out.println("Received " + message.data().length + " bytes from " + message.mailFrom()
                    + " for " + message.rcptTo() + " -> " + file);
            } catch (java.io.IOException e) {
                System.err.println("Cannot write " + file + ": " + e.getMessage());
            }
        })) {
            System.out.println("SMTP sink listening on 127.0.0.1:" + sink.port() + ", writing messages to " + folder);
            new CountDownLatch(1).await();
        }
    }
}
