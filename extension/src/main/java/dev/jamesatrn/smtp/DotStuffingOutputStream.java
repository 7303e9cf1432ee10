package dev.jamesatrn.smtp;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Message bytes on their way into the DATA phase (RFC 5321 section 4.5.2): a '.' that starts a
 * line is doubled, so 8-bit bytes and long lines pass as they were parked. The one other change
 * is for invalid input only: a bare CR and a bare LF each become CRLF (RFC 5321 section 2.3.8),
 * and a '.' after one is doubled like any other at a line start. Otherwise a receiver that ends
 * DATA on {@code <LF>.<LF>} or {@code <CR>.<CR>} would take what follows for commands (SMTP
 * smuggling), and a strict one would never see the end of the data. Bytes leave in fixed
 * chunks, so a message is never held whole in memory.
 */
public final class DotStuffingOutputStream extends OutputStream {
    /** Carries a broken session out of {@code MimeMessage.writeTo}, which only throws IOException. */
    public static final class BrokenWhileWriting extends IOException {
        public final SmtpPeer.Broken cause;

        BrokenWhileWriting(SmtpPeer.Broken cause) {
            super(cause.getMessage(), cause);
            this.cause = cause;
        }
    }

    /** Where full chunks go: the customer's connection, which may block until Netty has sent earlier ones. */
    public interface ChunkSink {
        void send(byte[] chunk, int length) throws SmtpPeer.Broken;
    }

    private final ChunkSink sink;
    private final byte[] buffer;
    private int length;
    private boolean atLineStart = true;
    // A CR was just sent as CRLF: an LF right after it is that same line end.
    private boolean lfOfCrlfPending;
    private long written;

    public DotStuffingOutputStream(ChunkSink sink, int chunkSize) {
        this.sink = sink;
        this.buffer = new byte[chunkSize];
    }

    @Override
    public void write(int b) throws IOException {
        b &= 0xff;
        boolean lfOfCrlf = lfOfCrlfPending && b == '\n';
        lfOfCrlfPending = false;
        if (lfOfCrlf) {
            return;
        }
        if (b == '\r' || b == '\n') {
            put((byte) '\r');
            put((byte) '\n');
            atLineStart = true;
            lfOfCrlfPending = b == '\r';
            return;
        }
        if (atLineStart && b == '.') {
            put((byte) '.');
        }
        put((byte) b);
        atLineStart = false;
    }

    /** Copies runs of bytes that need no change (inside a line, up to its CR or LF) in bulk. */
    @Override
    public void write(byte[] bytes, int offset, int count) throws IOException {
        int end = offset + count;
        int i = offset;
        while (i < end) {
            if (!atLineStart) {
                int runEnd = i;
                while (runEnd < end && bytes[runEnd] != '\n' && bytes[runEnd] != '\r') {
                    runEnd++;
                }
                if (runEnd > i) {
                    putRun(bytes, i, runEnd - i);
                    i = runEnd;
                    continue;
                }
            }
            write(bytes[i++]);
        }
    }

    private void putRun(byte[] bytes, int offset, int count) throws IOException {
        int done = 0;
        while (done < count) {
            int n = Math.min(count - done, buffer.length - length);
            System.arraycopy(bytes, offset + done, buffer, length, n);
            length += n;
            written += n;
            done += n;
            if (length == buffer.length) {
                flushChunk();
            }
        }
    }

    /** Ends the body with CRLF if the message did not, so the terminating "." has a line of its own. */
    private void endLine() throws IOException {
        if (!atLineStart) {
            put((byte) '\r');
            put((byte) '\n');
            atLineStart = true;
        }
    }

    /**
     * Ends the message: CRLF if it lacked one, then the terminating "." line in the same chunk
     * (one write to the connection fewer per message). The "." line is not counted in
     * {@link #bytesWritten()}.
     */
    public void finishWithEndOfData() throws IOException {
        endLine();
        long message = written;
        put((byte) '.');
        put((byte) '\r');
        put((byte) '\n');
        written = message;
        flushChunk();
    }

    public long bytesWritten() {
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
            sink.send(buffer, length);
        } catch (SmtpPeer.Broken e) {
            throw new BrokenWhileWriting(e);
        }
        length = 0;
    }
}
