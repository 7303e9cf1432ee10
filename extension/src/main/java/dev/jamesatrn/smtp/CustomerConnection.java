package dev.jamesatrn.smtp;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.StreamResponse;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPSession;

/**
 * The customer's end of a reversed ODMR session, seen from the provider's SMTP client. The
 * Netty event loop only hands received lines over (see {@link #onLine}); the client runs on its
 * own thread and blocks there, never on the event loop, while it waits for replies or for
 * the socket to drain.
 */
public final class CustomerConnection implements LineHandler<SMTPSession>, SmtpPeer {
    private static final Object DISCONNECTED = new Object();
    private static final Object FLOODED = new Object();
    private static final Object LINE_TOO_LONG = new Object();
    // A customer answers one command at a time (a pipelined group at most); far more unread
    // lines or characters than that is abuse. Bounds what one session holds before it is read.
    private static final int MAX_UNREAD_LINES = 1000;
    private static final int MAX_UNREAD_CHARS = 1024 * 1024;
    // Chunks of a message (64 KB each, ParkedMailClient's) handed to Netty but not yet written to
    // the socket: bounds memory per session whatever the message size.
    private static final int CHUNKS_IN_FLIGHT = 4;

    private final SMTPSession session;
    private final ProtocolTransport transport;
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>(MAX_UNREAD_LINES + 1);
    private final Semaphore chunkSlots = new Semaphore(CHUNKS_IN_FLIGHT);
    private final AtomicBoolean gone = new AtomicBoolean();
    private final boolean recordPerLine;
    private final AtomicLong unreadChars = new AtomicLong();
    // Set once the session is given up: lines still arriving are dropped unread.
    private final AtomicBoolean deaf = new AtomicBoolean();
    // Event loop only: set by startListening, used by stopListening.
    private Optional<ReversedSessionFraming> framing = Optional.empty();

    /**
     * @param recordPerLine write every line in a TLS record of its own (atrn.xml
     *                      {@code tlsRecordPerLine}: fetchmail's TLS-from-the-first-byte mode needs it)
     */
    public CustomerConnection(SMTPSession session, boolean recordPerLine) {
        this.session = session;
        this.transport = ((ProtocolSessionImpl) session).getProtocolTransport();
        this.recordPerLine = recordPerLine;
    }

    /** Takes the connection's received lines, and its over-long lines, away from James's command handling. */
    public void startListening() {
        session.pushLineHandler(this);
        framing = ReversedSessionFraming.install(session, this);
    }

    /**
     * Called on the event loop as the 250 to ATRN goes out: from then on the connection never
     * returns to James's command handling, so there is no STARTTLS left to guard. James 3.8.1's
     * line framer, while it guards against STARTTLS command injection (CVE-2021-38542), copies,
     * lower-cases and splits all its unread input before each line it frames: quadratic in what
     * the customer sends at once (measured: after a customer streaming replies was cut off, a
     * framer thread went on for up to 16 s; after 16 such customers in a row every framer thread
     * was at it and the ODMR port stopped greeting).
     * The framer reads this flag on its own executor after the event loop handed it the bytes,
     * so setting it here is seen by every line the customer sends after the 250.
     */
    public void reversing() {
        session.stopDetectingCommandInjection();
    }

    @Override
    public Response onLine(SMTPSession ignored, byte[] line) {
        if (deaf.get()) {
            return null;
        }
        String text = new String(line, StandardCharsets.UTF_8);
        if (received.size() >= MAX_UNREAD_LINES || unreadChars.get() + text.length() > MAX_UNREAD_CHARS) {
            stopReading();
            received.clear();
            unreadChars.set(0);
            received.offer(FLOODED);
        } else {
            unreadChars.addAndGet(text.length());
            received.offer(text);
        }
        return null;
    }

    /**
     * The customer sent a line longer than James's framer takes, which James dropped: the replies
     * can no longer be matched to our commands. Called on the event loop by
     * {@link ReversedSessionFraming}, which closes the connection; lines received before it are
     * still read (a 250 to a final dot among them counts).
     */
    void lineTooLong() {
        stopReading();
        gone.set(true);
        if (!received.offer(LINE_TOO_LONG)) {
            received.clear();
            received.offer(LINE_TOO_LONG);
        }
    }

    /** Nothing more is read from a customer whose session is given up, however much it still sends. */
    private void stopReading() {
        if (deaf.compareAndSet(false, true)) {
            try {
                transport.setReadable(false);
            } catch (RuntimeException e) {
                // the channel is already gone: nothing is read from it anyway
            }
        }
    }

    public void disconnected() {
        gone.set(true);
        if (!received.offer(DISCONNECTED)) {
            received.clear();
            received.offer(DISCONNECTED);
        }
    }

    /** Gives the connection back to the ODMR command set (after a 451 or 453). */
    public void stopListening() {
        framing.ifPresent(ReversedSessionFraming::remove);
        try {
            session.popLineHandler();
        } catch (RuntimeException e) {
            // James 3.8.1 throws when the channel is already gone: nothing is left to give back.
            gone.set(true);
        }
    }

    /** Lines the client sent before the ATRN reply (a protocol error), taken out to be answered. */
    public List<String> takePending() {
        List<String> lines = new ArrayList<>();
        for (Object item : received) {
            if (item instanceof String) {
                lines.add(stripEol((String) item));
            }
        }
        received.removeIf(item -> item != DISCONNECTED);
        unreadChars.set(0);
        return lines;
    }

    public void reply(Response response) {
        transport.writeResponse(response, session);
    }

    @Override
    public void sendAll(List<String> commandLines) throws Broken {
        if (gone.get()) {
            throw new Broken("connection closed by the customer");
        }
        Object unasked = received.peek();
        if (unasked instanceof String) {
            // A reply nobody asked for would shift every later reply onto the wrong command.
            throw new Broken("the customer sent a line nobody asked for: " + SmtpPeer.abbreviate(stripEol((String) unasked)));
        }
        if (recordPerLine) {
            StringBuilder group = new StringBuilder();
            commandLines.forEach(line -> group.append(line).append("\r\n"));
            transport.writeResponse(new DataChunk(group.toString().getBytes(StandardCharsets.UTF_8), true, null), session);
            return;
        }
        transport.writeResponse(new CommandLines(List.copyOf(commandLines)), session);
    }

    @Override
    public Reply await(Duration timeout, String awaiting) throws Broken {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            return ReplyReader.read(() -> nextLine(deadline, timeout, awaiting), awaiting, "the customer");
        } catch (Broken e) {
            stopReading();
            throw e;
        }
    }

    private String nextLine(long deadline, Duration timeout, String awaiting) throws Broken {
        Object item;
        try {
            item = received.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Broken("interrupted while waiting for " + awaiting);
        }
        if (item == null) {
            throw new Broken("no reply to " + awaiting + " within " + timeout.toSeconds() + " s");
        }
        if (item == DISCONNECTED) {
            received.offer(DISCONNECTED);
            throw new Broken("connection closed by the customer while waiting for " + awaiting);
        }
        if (item == FLOODED) {
            throw new Broken("the customer sent more than " + MAX_UNREAD_LINES + " lines or " + MAX_UNREAD_CHARS / 1024
                + " KB unasked");
        }
        if (item == LINE_TOO_LONG) {
            throw new Broken("the customer sent a line longer than " + ReversedSessionFraming.maxLineLength()
                + " bytes while we waited for " + awaiting + " (RFC 5321 section 4.5.3.1.5: 512 for a reply line)");
        }
        String line = (String) item;
        unreadChars.addAndGet(-line.length());
        return stripEol(line);
    }

    /** Queues one chunk of message data, waiting (on this thread) while too many are unsent. */
    @Override
    public void sendData(byte[] chunk, int length, Duration timeout) throws Broken {
        acquire(chunkSlots, timeout);
        byte[] copy = new byte[length];
        System.arraycopy(chunk, 0, copy, 0, length);
        transport.writeResponse(new DataChunk(copy, recordPerLine, chunkSlots), session);
    }

    /** Waits for a write slot, checking every second whether the customer is gone. */
    private void acquire(Semaphore slots, Duration timeout) throws Broken {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!slots.tryAcquire(Math.min(1_000_000_000L, Math.max(0, deadline - System.nanoTime())), TimeUnit.NANOSECONDS)) {
                if (gone.get()) {
                    throw new Broken("connection closed by the customer during DATA");
                }
                if (System.nanoTime() >= deadline) {
                    throw new Broken("the customer read no data for " + timeout.toSeconds() + " s");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Broken("interrupted during DATA");
        }
        if (gone.get()) {
            slots.release();
            throw new Broken("connection closed by the customer during DATA");
        }
    }

    @Override
    public void close() {
        if (gone.get()) {
            return;
        }
        try {
            transport.writeResponse(Response.DISCONNECT, session);
        } catch (RuntimeException e) {
            // James 3.8.1 throws when the channel closed before its disconnect event reached us.
            gone.set(true);
        }
    }

    private static String stripEol(String line) {
        int end = line.length();
        while (end > 0 && (line.charAt(end - 1) == '\n' || line.charAt(end - 1) == '\r')) {
            end--;
        }
        return line.substring(0, end);
    }

    /** Command lines the provider sends as the client (no reply code): James writes each followed by CRLF. */
    private static final class CommandLines implements Response {
        private final List<String> lines;

        CommandLines(List<String> lines) {
            this.lines = lines;
        }

        List<String> lines() {
            return lines;
        }

        @Override
        public String getRetCode() {
            return "";
        }

        @Override
        public List<CharSequence> getLines() {
            return List.copyOf(lines);
        }

        @Override
        public boolean isEndSession() {
            return false;
        }
    }

    /**
     * Raw bytes through James's StreamResponse path (Netty's ChunkedWriteHandler). The chunk is
     * already in memory, so reading it on the event loop does no I/O; closing it (done by Netty
     * once written or discarded) frees a slot for the next chunk.
     *
     * <p>With {@code linePaced}, the stream never lets one read cross the end of a line, and says
     * so through available(). James 3.8.1 writes a StreamResponse as Netty's ChunkedStream, which
     * reads at most available() bytes per chunk and writes and flushes each chunk on its own, and
     * SslHandler wraps what one flush gives it: so every line leaves in a TLS record of its own,
     * with no extra thread hop per line. (James offers no other way to shape TLS records: it does
     * not expose the channel.) A line longer than a chunk or a record spans several, which
     * fetchmail handles: what it cannot handle is a record holding the end of one line and more.
     */
    private static final class DataChunk implements StreamResponse, WritesNoLines {
        private final byte[] bytes;
        private final boolean linePaced;
        private final Semaphore slots;

        DataChunk(byte[] bytes, boolean linePaced, Semaphore slots) {
            this.bytes = bytes;
            this.linePaced = linePaced;
            this.slots = slots;
        }

        @Override
        public InputStream getStream() {
            return new ByteArrayInputStream(bytes) {
                private final AtomicBoolean closed = new AtomicBoolean();

                @Override
                public synchronized int available() {
                    if (!linePaced) {
                        return super.available();
                    }
                    for (int i = pos; i < count; i++) {
                        if (buf[i] == '\n') {
                            return i + 1 - pos;
                        }
                    }
                    return count - pos;
                }

                @Override
                public synchronized int read(byte[] target, int offset, int length) {
                    int toLineEnd = available();
                    return super.read(target, offset, toLineEnd == 0 ? length : Math.min(length, toLineEnd));
                }

                @Override
                public void close() {
                    if (closed.compareAndSet(false, true) && slots != null) {
                        slots.release();
                    }
                }
            };
        }

        @Override
        public String getRetCode() {
            return "";
        }
    }
}
