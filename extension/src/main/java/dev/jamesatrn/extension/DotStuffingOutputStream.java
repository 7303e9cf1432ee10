package dev.jamesatrn.extension;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;

/**
 * Message bytes on their way into the DATA phase (RFC 5321 section 4.5.2): a '.' that starts a
 * line is doubled, nothing else changes, so 8-bit bytes and long lines pass as they were parked.
 * Bytes leave in fixed chunks, so a message is never held whole in memory.
 */
final class DotStuffingOutputStream extends OutputStream {
    /** Carries a broken session out of {@code MimeMessage.writeTo}, which only throws IOException. */
    static final class BrokenWhileWriting extends IOException {
        final CustomerConnection.Broken cause;

        BrokenWhileWriting(CustomerConnection.Broken cause) {
            super(cause.getMessage(), cause);
            this.cause = cause;
        }
    }

    private final CustomerConnection customer;
    private final Duration blockTimeout;
    private final byte[] buffer = new byte[CustomerConnection.chunkSize()];
    private int length;
    private boolean atLineStart = true;
    private long written;

    DotStuffingOutputStream(CustomerConnection customer, Duration blockTimeout) {
        this.customer = customer;
        this.blockTimeout = blockTimeout;
    }

    @Override
    public void write(int b) throws IOException {
        if (atLineStart && b == '.') {
            put((byte) '.');
        }
        put((byte) b);
        atLineStart = b == '\n';
    }

    @Override
    public void write(byte[] bytes, int offset, int count) throws IOException {
        for (int i = offset; i < offset + count; i++) {
            write(bytes[i]);
        }
    }

    /** Ends the body with CRLF if the message did not, so the terminating "." has a line of its own. */
    void finish() throws IOException {
        if (!atLineStart) {
            put((byte) '\r');
            put((byte) '\n');
            atLineStart = true;
        }
        flushChunk();
    }

    long bytesWritten() {
        return written;
    }

    private void put(byte b) throws IOException {
        buffer[length++] = b;
        written++;
        if (length == buffer.length) {
            flushChunk();
        }
    }

    private void flushChunk() throws IOException {
        if (length == 0) {
            return;
        }
        try {
            customer.sendData(buffer, length, blockTimeout);
        } catch (CustomerConnection.Broken e) {
            throw new BrokenWhileWriting(e);
        }
        length = 0;
    }
}
