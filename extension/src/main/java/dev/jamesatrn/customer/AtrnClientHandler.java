package dev.jamesatrn.customer;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import javax.security.sasl.SaslException;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;

import dev.jamesatrn.customer.PollOutcome.Result;
import dev.jamesatrn.smtp.ReplyReader;
import dev.jamesatrn.smtp.SmtpPeer;

/**
 * The client phase of an ODMR poll (RFC 2645 section 5), on the Netty event loop and never
 * blocking it: greeting, EHLO, STARTTLS and EHLO again, AUTH, ATRN. Every step waits for its
 * reply with a timer (the ATRN reply with its own, at least 10 minutes by section 5.2.1). On
 * {@code 250} to ATRN it hands the connection to James's SMTP server ({@link Turn}) and steps
 * aside; the poll then ends when the connection closes, whoever closes it.
 */
final class AtrnClientHandler extends ChannelInboundHandlerAdapter {
    static final String FRAMER = "atrn-customer-framer";
    static final String NAME = "atrn-customer";
    static final String SSL = org.apache.james.protocols.netty.HandlerConstants.SSL_HANDLER;

    /** Installs the reversed session on the channel; returns the poll's counters. */
    interface Turn {
        PollContext turn(Channel channel) throws Exception;
    }

    private enum Step {
        GREETING("the greeting"), EHLO("EHLO"), STARTTLS("STARTTLS"), HANDSHAKE("the TLS handshake"),
        AUTH("AUTH"), ATRN("ATRN"), TURNED("the reversed session"), ENDED("the end");

        private final String what;

        Step(String what) {
            this.what = what;
        }
    }

    private final Provider provider;
    private final String helloName;
    private final Turn turn;
    private final Instant started = Instant.now();
    private final long startNanos = System.nanoTime();
    private final CompletableFuture<PollOutcome> outcome = new CompletableFuture<>();
    private final String peer;
    private ReplyReader.Assembler assembler = new ReplyReader.Assembler();
    private Step step = Step.GREETING;
    private boolean tls;
    private AuthExchange auth;
    private boolean authCancelled;
    private ScheduledFuture<?> timer;
    private Optional<String> lastReply = Optional.empty();
    private PollContext received;

    AtrnClientHandler(Provider provider, String helloName, Turn turn) {
        this.provider = provider;
        this.helloName = helloName;
        this.turn = turn;
        this.peer = provider.host() + ":" + provider.port();
        this.tls = provider.tls() == Provider.Tls.IMPLICIT;
    }

    CompletableFuture<PollOutcome> outcome() {
        return outcome;
    }

    /** A connect that failed: the handler never saw the channel active. */
    void connectFailed(Throwable cause) {
        end(Result.FAILED, "cannot connect to " + peer + ": " + PollFailures.describe(cause)
            + ". Check host and port of provider " + provider.name() + ", and that it listens there");
    }

    /** Ends the poll from outside (shutdown, interrupted caller). */
    void abort(Channel channel, String why) {
        end(Result.FAILED, why);
        channel.close();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl != null) {
            ssl.handshakeFuture().addListener(handshake -> handshakeDone(ctx, handshake));
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        await(ctx, Step.GREETING, provider.commandTimeout());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        String line;
        ByteBuf buf = (ByteBuf) msg;
        try {
            line = buf.toString(ISO_8859_1);
        } finally {
            buf.release();
        }
        if (step == Step.TURNED || step == Step.ENDED) {
            return;
        }
        Optional<ProviderReply> reply;
        try {
            reply = assembler.add(line, step.what, peer).map(ProviderReply::new);
        } catch (SmtpPeer.Broken e) {
            fail(ctx, Result.FAILED, e.getMessage());
            return;
        }
        if (reply.isPresent()) {
            cancelTimer();
            lastReply = Optional.of(reply.get().firstLine());
            try {
                onReply(ctx, reply.get());
            } catch (SaslException e) {
                fail(ctx, Result.FAILED, "AUTH " + provider.mechanism().saslName() + " with " + peer + " failed on our side: "
                    + e.getMessage());
            } catch (Exception e) {
                fail(ctx, Result.FAILED, "ODMR session with " + peer + " failed: " + PollFailures.describe(e));
            }
        }
    }

    private void onReply(ChannelHandlerContext ctx, ProviderReply reply) throws Exception {
        switch (step) {
            case GREETING:
                if (reply.code != 220) {
                    refuse(ctx, peer + " greeted with \"" + reply.firstLine() + "\" instead of 220");
                    return;
                }
                send(ctx, "EHLO " + helloName, Step.EHLO, provider.commandTimeout());
                return;
            case EHLO:
                onEhlo(ctx, reply);
                return;
            case STARTTLS:
                onStartTls(ctx, reply);
                return;
            case AUTH:
                onAuth(ctx, reply);
                return;
            case ATRN:
                onAtrn(ctx, reply);
                return;
            default:
                fail(ctx, Result.FAILED, peer + " sent \"" + reply.firstLine() + "\" while we waited for " + step.what);
        }
    }

    private void onEhlo(ChannelHandlerContext ctx, ProviderReply ehlo) throws Exception {
        if (ehlo.code != 250) {
            refuse(ctx, peer + " refused our EHLO: \"" + ehlo.firstLine() + "\"");
            return;
        }
        if (provider.tls() == Provider.Tls.STARTTLS && !tls) {
            if (!ehlo.advertises("STARTTLS")) {
                refuse(ctx, peer + " does not offer STARTTLS and provider " + provider.name()
                    + " is set to starttls: nothing is sent in clear. Ask the provider for STARTTLS, or use implicit TLS on its TLS port");
                return;
            }
            send(ctx, "STARTTLS", Step.STARTTLS, provider.commandTimeout());
            return;
        }
        // RFC 2645 section 5: a provider lists ATRN (and AUTH) in its EHLO reply.
        if (!ehlo.advertises("ATRN")) {
            refuse(ctx, peer + " does not advertise ATRN after EHLO: it is no ODMR (RFC 2645) service, or not on this port");
            return;
        }
        String mechanism = provider.mechanism().saslName();
        List<String> offered = ehlo.parameters("AUTH").orElse(List.of());
        if (!offered.contains(mechanism)) {
            refuse(ctx, peer + " does not offer AUTH " + mechanism + " (it offers: "
                + (offered.isEmpty() ? "no AUTH at all" : String.join(" ", offered)) + "). Set the mechanism of provider "
                + provider.name() + " to one it offers");
            return;
        }
        if (provider.mechanism() != Provider.Mechanism.CRAM_MD5 && !tls) {
            // RFC 4954 section 4: PLAIN and LOGIN carry the secret itself.
            refuse(ctx, "AUTH " + mechanism + " would send the secret of provider " + provider.name()
                + " in clear: use CRAM-MD5, or TLS (implicit or starttls)");
            return;
        }
        auth = AuthExchange.of(provider);
        send(ctx, auth.command(), Step.AUTH, provider.commandTimeout());
    }

    private void onStartTls(ChannelHandlerContext ctx, ProviderReply reply) throws Exception {
        if (reply.code != 220) {
            refuse(ctx, peer + " refused STARTTLS: \"" + reply.firstLine() + "\"");
            return;
        }
        ReplyFramer framer = (ReplyFramer) ctx.pipeline().get(FRAMER);
        if (framer.hasUnreadInput()) {
            // RFC 3207 section 5 / CVE-2011-0411: clear text after the 220 must not be read as if
            // it came inside TLS.
            fail(ctx, Result.FAILED, peer + " sent data after its 220 to STARTTLS, before TLS: possible command injection");
            return;
        }
        SslHandler ssl = ProviderTls.clientHandler(provider);
        ssl.handshakeFuture().addListener(handshake -> handshakeDone(ctx, handshake));
        step = Step.HANDSHAKE;
        ctx.pipeline().addFirst(SSL, ssl);
    }

    private void handshakeDone(ChannelHandlerContext ctx, Future<?> handshake) {
        if (!handshake.isSuccess()) {
            fail(ctx, Result.FAILED, PollFailures.tls(provider, peer, handshake.cause()));
            return;
        }
        tls = true;
        if (step == Step.HANDSHAKE) {
            send(ctx, "EHLO " + helloName, Step.EHLO, provider.commandTimeout());
        }
    }

    private void onAuth(ChannelHandlerContext ctx, ProviderReply reply) throws Exception {
        if (reply.code == 334) {
            if (authCancelled) {
                // RFC 4954 section 4: "*" must be answered 501. A provider that challenges on
                // would keep the poll (and its thread and claim) in an endless exchange.
                fail(ctx, Result.FAILED, peer + " went on challenging after we cancelled AUTH " + provider.mechanism().saslName()
                    + " (\"*\"): \"" + reply.firstLine() + "\" instead of 501");
                return;
            }
            Optional<String> answer = auth.answer(reply.text());
            if (answer.isEmpty()) {
                // "*" cancels the exchange (RFC 4954 section 4); its 501 then ends the poll.
                authCancelled = true;
                send(ctx, "*", Step.AUTH, provider.commandTimeout());
            } else {
                send(ctx, answer.get(), Step.AUTH, provider.commandTimeout());
            }
            return;
        }
        closeAuth();
        if (reply.code != 235) {
            refuse(ctx, peer + " refused AUTH " + provider.mechanism().saslName() + " for login " + provider.login() + ": \""
                + reply.firstLine() + "\". Check login and secret of provider " + provider.name());
            return;
        }
        send(ctx, atrnCommand(), Step.ATRN, provider.atrnReplyTimeout());
    }

    private void onAtrn(ChannelHandlerContext ctx, ProviderReply reply) throws Exception {
        String asked = atrnCommand();
        switch (reply.code) {
            case 250:
                turn(ctx);
                return;
            case 453:
                quit(ctx, Result.NOTHING_WAITING, Optional.empty());
                return;
            case 451:
                quit(ctx, Result.TRY_LATER, Optional.of(peer + " cannot serve " + asked + " now: \"" + reply.firstLine()
                    + "\"; the next poll tries again"));
                return;
            default:
                quit(ctx, Result.REFUSED, Optional.of(peer + " refused " + asked + " for login " + provider.login() + ": \""
                    + reply.firstLine() + "\"" + PollFailures.atrnHint(reply.code)));
        }
    }

    /** RFC 2645 5.1: domains separated by commas; none = every domain the login may claim. */
    private String atrnCommand() {
        return provider.domains().isEmpty() ? "ATRN" : "ATRN " + String.join(",", provider.domains());
    }

    /**
     * RFC 2645 section 4: after 250 the roles reverse on the same connection. James's pipeline
     * goes in after ours, our handlers come out; bytes the provider sent early (before our 220)
     * reach James's framer when our framer is removed, after James's session exists.
     */
    private void turn(ChannelHandlerContext ctx) {
        step = Step.TURNED;
        try {
            received = turn.turn(ctx.channel());
        } catch (Exception e) {
            fail(ctx, Result.FAILED, "cannot start James's SMTP server on the connection to " + peer + ": " + PollFailures.describe(e));
            return;
        }
        Channel channel = ctx.channel();
        Duration most = provider.maxReceiveTime();
        // channelClosed() cancels it; this handler leaves the pipeline, the timer stays with the channel.
        timer = channel.eventLoop().schedule(() -> {
            if (!outcome.isDone()) {
                // Each message got our 250 or is still the provider's: cutting loses nothing.
                end(Result.RECEIVED, peer + " was still sending after maxReceiveTime " + PollFailures.seconds(most) + " of provider "
                    + provider.name() + ": cut; what it did not send waits for the next poll");
                channel.close();
            }
        }, most.toMillis(), TimeUnit.MILLISECONDS);
        ctx.pipeline().remove(this);
        ctx.pipeline().remove(FRAMER);
    }

    private void quit(ChannelHandlerContext ctx, Result result, Optional<String> error) {
        step = Step.ENDED;
        end(result, error.orElse(null));
        ctx.writeAndFlush(Unpooled.copiedBuffer("QUIT\r\n", US_ASCII)).addListener(ChannelFutureListener.CLOSE);
    }

    private void refuse(ChannelHandlerContext ctx, String error) {
        quit(ctx, Result.REFUSED, Optional.of(error));
    }

    private void send(ChannelHandlerContext ctx, String line, Step next, Duration timeout) {
        await(ctx, next, timeout);
        ctx.writeAndFlush(Unpooled.copiedBuffer(line + "\r\n", US_ASCII)).addListener(write -> {
            if (!write.isSuccess()) {
                fail(ctx, Result.FAILED, "cannot write " + next.what + " to " + peer + ": " + PollFailures.describe(write.cause()));
            }
        });
    }

    private void await(ChannelHandlerContext ctx, Step next, Duration timeout) {
        cancelTimer();
        step = next;
        assembler = new ReplyReader.Assembler();
        timer = ctx.executor().schedule(() -> {
            if (step == next) {
                fail(ctx, Result.FAILED, "no reply to " + next.what + " from " + peer + " within " + PollFailures.seconds(timeout));
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            fail(ctx, Result.FAILED, peer + " sent a reply line longer than " + ProviderReply.MAX_LINE + " bytes while we waited for "
                + step.what);
        } else if (PollFailures.hasSslCause(cause)) {
            fail(ctx, Result.FAILED, PollFailures.tls(provider, peer, cause));
        } else {
            fail(ctx, Result.FAILED, "connection to " + peer + " failed while we waited for " + step.what + ": " + PollFailures.describe(cause));
        }
    }

    private void fail(ChannelHandlerContext ctx, Result result, String error) {
        end(result, error);
        ctx.channel().close();
    }

    /** Registered by the poller on the channel as soon as it exists, whatever happens to the pipeline. */
    void channelClosed() {
        cancelTimer();
        closeAuth();
        if (step == Step.TURNED) {
            // RFC 2645 section 4: the provider ends with QUIT; any other end after the turn
            // (close, idle timeout) is as normal: each message either got our 250 or is still the provider's.
            end(Result.RECEIVED, null);
        } else {
            end(Result.FAILED, peer + " closed the connection while we waited for " + step.what);
        }
    }

    private void end(Result result, String error) {
        if (outcome.isDone()) {
            return;
        }
        step = step == Step.TURNED ? Step.TURNED : Step.ENDED;
        int messages = received == null ? 0 : received.messages();
        long bytes = received == null ? 0 : received.bytes();
        outcome.complete(new PollOutcome(provider.name(), started, Duration.ofNanos(System.nanoTime() - startNanos), result,
            lastReply, messages, bytes, Optional.ofNullable(error)));
    }

    private void closeAuth() {
        if (auth != null) {
            auth.close();
            auth = null;
        }
    }
}
