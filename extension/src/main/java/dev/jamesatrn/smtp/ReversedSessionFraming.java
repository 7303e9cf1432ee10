package dev.jamesatrn.smtp;

import java.lang.reflect.Field;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.netty.AbstractChannelPipelineFactory;
import org.apache.james.protocols.netty.HandlerConstants;
import org.apache.james.protocols.smtp.SMTPSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Ends the reversed session, unanswered, when the customer sends a line longer than James's line
 * framer takes ({@code AbstractChannelPipelineFactory.MAX_LINE_LENGTH}, 8,192 bytes in 3.8.1).
 *
 * <p>Why: the framer drops such a line and reports a {@link TooLongFrameException}, which James's
 * {@code BasicChannelInboundHandler.exceptionCaught} answers by writing "500 Line length
 * exceeded" into the connection, whatever line handler is pushed. In the reversed session James
 * is the client: that 500 reaches the customer as if it were our next command, and the
 * customer's answer to it is read as the reply to our real next command (measured: a parked
 * message bounced on a 550 meant for the 500). While the reversed session listens, this handler
 * sits just before James's core handler, takes that one exception out of James's hands and
 * closes the connection with nothing written; the mail stays parked.
 */
final class ReversedSessionFraming extends ChannelInboundHandlerAdapter {
    private static final Logger LOGGER = LoggerFactory.getLogger(ReversedSessionFraming.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final CustomerConnection customer;
    private final Channel channel;

    private ReversedSessionFraming(CustomerConnection customer, Channel channel) {
        this.customer = customer;
        this.channel = channel;
    }

    static int maxLineLength() {
        return AbstractChannelPipelineFactory.MAX_LINE_LENGTH;
    }

    /** Empty when the connection is already torn down, or James's transport is not the Netty one this was written for. */
    static Optional<ReversedSessionFraming> install(SMTPSession session, CustomerConnection customer) {
        Optional<Channel> channel = channelOf(session);
        if (channel.isEmpty()) {
            return Optional.empty();
        }
        ReversedSessionFraming framing = new ReversedSessionFraming(customer, channel.get());
        try {
            channel.get().pipeline().addBefore(HandlerConstants.CORE_HANDLER, null, framing);
            return Optional.of(framing);
        } catch (NoSuchElementException e) {
            // no core handler: the channel was closed and its pipeline emptied meanwhile
            return Optional.empty();
        }
    }

    /** Gives over-long lines back to James (after a 451 or 453 the ODMR commands take over again). */
    void remove() {
        try {
            channel.pipeline().remove(this);
        } catch (NoSuchElementException e) {
            // already gone with the channel
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            LOGGER.warn("The ATRN customer sent a line longer than {} bytes in the reversed session; connection closed, "
                + "its mail stays parked", maxLineLength());
            customer.lineTooLong();
            ctx.channel().close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    /**
     * James 3.8.1 gives handlers no way to its Netty pipeline: {@code NettyProtocolTransport} keeps
     * the {@link Channel} in a private field, and the {@code ChannelHandlerContext} of its core
     * handler is never handed out. So, as {@link LoopHandback} does for the event loop, this
     * departs from James's API and reads that field, found by its type so a rename does not
     * matter. Without it (another transport, a later James) the reversed session runs as before,
     * with one warning: an over-long line then gets James's 500.
     */
    private static Optional<Channel> channelOf(SMTPSession session) {
        ProtocolTransport transport = ((ProtocolSessionImpl) session).getProtocolTransport();
        for (Class<?> type = transport.getClass(); type != null; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (Channel.class.isAssignableFrom(field.getType())) {
                    try {
                        field.setAccessible(true);
                        return Optional.ofNullable((Channel) field.get(transport));
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        warnOnce(transport, e.toString());
                        return Optional.empty();
                    }
                }
            }
        }
        warnOnce(transport, "no Netty channel field");
        return Optional.empty();
    }

    private static void warnOnce(ProtocolTransport transport, String why) {
        if (WARNED.compareAndSet(false, true)) {
            LOGGER.warn("Cannot reach the Netty pipeline of {} ({}): an over-long line from an ATRN customer will be "
                + "answered by James instead of ending the reversed session", transport.getClass().getName(), why);
        }
    }
}
