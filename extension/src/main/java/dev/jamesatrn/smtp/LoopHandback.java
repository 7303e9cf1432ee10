package dev.jamesatrn.smtp;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;

import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;

/**
 * The one way this extension replies from a thread other than the connection's: a session thread
 * that answered ATRN or ETRN, or the timer of a delayed AUTH failure, hands the reply (and the
 * connection, back to James's command handling) to the connection's Netty event loop as one task.
 *
 * <p>Why by hand: James 3.8.1 decodes lines on a separate executor and hands each one to the
 * event loop as a task, and a reply written from another thread is queued on that loop too. A
 * session thread that wrote its reply and then removed its line handler could let a line the
 * client pipelined behind the command reach James's own handlers first, and that line's reply
 * would overtake ours (seen: a NOOP's 250 before ETRN's 251). On the loop, our reply, the answers
 * to the lines held back and the removal of our handler happen between two lines, in order.
 */
public final class LoopHandback {
    private static final Logger LOGGER = LoggerFactory.getLogger(LoopHandback.class);

    private final EventExecutor loop;

    private LoopHandback(EventExecutor loop) {
        this.loop = loop;
    }

    /**
     * Called by a command handler, on the event loop that runs the connection. James's
     * ProtocolTransport does not expose its Netty channel, so the loop is taken from Netty's
     * record of the executor running the current thread (io.netty.util.internal, Netty 4.1.86 in
     * James 3.8.1); without one, {@link #run} runs the task at once, as before this class existed.
     */
    public static LoopHandback ofCurrentLoop() {
        return new LoopHandback(ThreadExecutorMap.currentExecutor());
    }

    /** Runs on the connection's event loop; at once when there is none (a handler called by a test). */
    public void run(Runnable task) {
        if (loop == null || loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            LOGGER.debug("Event loop shut down before the reply could be written: {}", e.getMessage());
        }
    }

    /**
     * Answers the lines a client sent before the reply it had to wait for: 503 asking for each
     * again (none was run), or 221 and the end of the session for QUIT. False when QUIT ended
     * the session (lines after it get no answer).
     */
    public static boolean answerEarlyLines(SMTPSession session, List<String> lines, String command) {
        ProtocolTransport transport = ((ProtocolSessionImpl) session).getProtocolTransport();
        for (String line : lines) {
            String verb = line.strip().split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
            Response reply = verb.equals("QUIT") ? OdmrReplies.BYE : OdmrReplies.pipelinedBehind(command, SmtpPeer.abbreviate(verb));
            transport.writeResponse(reply, session);
            if (reply.isEndSession()) {
                return false;
            }
        }
        return true;
    }
}
