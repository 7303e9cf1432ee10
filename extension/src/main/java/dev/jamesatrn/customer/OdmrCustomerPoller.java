package dev.jamesatrn.customer;

import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.core.Domain;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.lib.handler.ProtocolHandlerLoader;
import org.apache.james.protocols.netty.BasicChannelInboundHandler;
import org.apache.james.protocols.netty.HandlerConstants;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.server.core.configuration.ConfigurationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.GlobalEventExecutor;

import dev.jamesatrn.core.DaemonThreads;

/**
 * The ODMR customer (RFC 2645) on Netty 4, as James's own servers are: one connection per poll,
 * the client phase in {@link AtrnClientHandler}, then, on {@code 250} to ATRN, James's SMTP server
 * ({@link ReversedSmtpServer}, configured from the operator's inbound {@code <smtpserver>}) on
 * that same connection. The caller's thread only waits; all I/O is on this poller's event loops.
 * One instance serves every provider; {@link #close()} ends the polls in flight and frees the
 * threads (call it at James's shutdown).
 */
public final class OdmrCustomerPoller implements Poller, AutoCloseable {
    /** The inbound server whose settings the reversed session takes, by its {@code <jmxName>}. */
    public static final String DEFAULT_INBOUND_SERVER = "smtpserver-global";
    private static final Logger LOGGER = LoggerFactory.getLogger(OdmrCustomerPoller.class);
    private static final String SMTPSERVER_XML = "smtpserver";

    private final ReversedSmtpServer server;
    private final EventLoopGroup loops;
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private volatile boolean closed;

    private OdmrCustomerPoller(ReversedSmtpServer server, int ioThreads) {
        this.server = server;
        this.loops = new NioEventLoopGroup(ioThreads, DaemonThreads.numbered("atrn-customer-io"));
    }

    /**
     * @param inboundServer {@code <jmxName>} of the {@code <smtpserver>} in conf/smtpserver.xml whose
     *                      greeting, limits, timeouts and hooks the reversed session takes
     */
    public static OdmrCustomerPoller create(ConfigurationProvider configurations, String inboundServer, FileSystem fileSystem,
                                            ProtocolHandlerLoader loader, DNSService dns, MetricFactory metricFactory)
        throws Exception {
        HierarchicalConfiguration<ImmutableNode> inbound = inboundServer(configurations.getConfiguration(SMTPSERVER_XML), inboundServer);
        ReversedSmtpServer server = ReversedSmtpServer.create(inbound, fileSystem, loader, dns, metricFactory);
        return new OdmrCustomerPoller(server, Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    static HierarchicalConfiguration<ImmutableNode> inboundServer(HierarchicalConfiguration<ImmutableNode> smtpservers,
                                                                 String jmxName) throws ConfigurationException {
        List<HierarchicalConfiguration<ImmutableNode>> servers = smtpservers.configurationsAt("smtpserver");
        List<String> names = servers.stream().map(s -> s.getString("jmxName", "smtpserver")).collect(Collectors.toList());
        for (HierarchicalConfiguration<ImmutableNode> candidate : servers) {
            if (jmxName.equals(candidate.getString("jmxName", "smtpserver"))) {
                return candidate;
            }
        }
        throw new ConfigurationException("conf/smtpserver.xml has no <smtpserver> whose <jmxName> is '" + jmxName
            + "' (it has: " + String.join(", ", names) + "). The ODMR customer receives its mail with the settings of that "
            + "server: fix the inbound server name of the customer configuration, or the <jmxName> in smtpserver.xml");
    }

    /** The name this James gives in EHLO, to providers as to anyone: the inbound server's helloName. */
    public String helloName() {
        return server.getHelloName();
    }

    @Override
    public PollOutcome poll(Provider provider) throws InterruptedException {
        Objects.requireNonNull(provider);
        AtrnClientHandler client = new AtrnClientHandler(provider, server.getHelloName(), channel -> reverse(channel, provider));
        if (closed) {
            client.connectFailed(new IllegalStateException("James is shutting down"));
            return client.outcome().join();
        }
        SslHandler implicitTls = null;
        if (provider.tls() == Provider.Tls.IMPLICIT) {
            try {
                implicitTls = ProviderTls.clientHandler(provider);
            } catch (Exception e) {
                client.connectFailed(new IllegalStateException("cannot set up TLS (" + ProviderTls.trustSource(provider) + "): "
                    + PollFailures.describe(e)));
                return client.outcome().join();
            }
        }
        SslHandler tlsFromTheFirstByte = implicitTls;
        Bootstrap bootstrap = new Bootstrap()
            .group(loops)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, provider.commandTimeout().toMillis()))
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel channel) throws Exception {
                    ChannelPipeline pipeline = channel.pipeline();
                    if (tlsFromTheFirstByte != null) {
                        pipeline.addLast(AtrnClientHandler.SSL, tlsFromTheFirstByte);
                    }
                    pipeline.addLast(AtrnClientHandler.FRAMER, new ReplyFramer());
                    pipeline.addLast(AtrnClientHandler.NAME, client);
                }
            });
        // Resolved here, on the poll's own thread: Netty's default resolver would block the event
        // loop that every other poll's connection shares for as long as DNS takes.
        InetSocketAddress address = new InetSocketAddress(provider.host(), provider.port());
        if (address.isUnresolved()) {
            client.connectFailed(new UnknownHostException("cannot resolve " + provider.host()));
            return client.outcome().join();
        }
        ChannelFuture connect;
        try {
            connect = bootstrap.connect(address);
        } catch (RuntimeException e) {
            client.connectFailed(e);
            return client.outcome().join();
        }
        Channel channel = connect.channel();
        channels.add(channel);
        channel.closeFuture().addListener(closed -> client.channelClosed());
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                client.connectFailed(done.cause());
            }
        });
        try {
            return await(client.outcome());
        } catch (InterruptedException e) {
            client.abort(channel, "poll of " + provider.name() + " interrupted (James is shutting down?)");
            throw e;
        } finally {
            channel.close();
        }
    }

    private static PollOutcome await(CompletableFuture<PollOutcome> outcome) throws InterruptedException {
        try {
            // Bounded by the session itself: a timer on every client step, James's idle timeout
            // (connectiontimeout) after the turn, and close() at shutdown.
            return outcome.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the poll ended without an outcome", e.getCause());
        }
    }

    /**
     * On the event loop, after {@code 250} to ATRN: James's pipeline on our channel, its session
     * created as if the connection had just been accepted ({@code channelActive} fired at its core
     * handler, which greets with 220), and this poll's scope put on that session.
     */
    private PollContext reverse(Channel channel, Provider provider) {
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addLast(server.pipeline());
        ChannelHandlerContext beforeCore = pipeline.context(HandlerConstants.TIMEOUT_HANDLER);
        if (beforeCore == null || pipeline.get(HandlerConstants.CORE_HANDLER) == null) {
            throw new IllegalStateException("James's SMTP pipeline did not install");
        }
        PollContext poll = new PollContext(provider.name(), provider.domains().stream().map(Domain::of).collect(Collectors.toSet()));
        beforeCore.fireChannelActive();
        Object session = channel.attr(BasicChannelInboundHandler.SESSION_ATTRIBUTE_KEY).get();
        if (!(session instanceof SMTPSession)) {
            throw new IllegalStateException("James's SMTP session was not created");
        }
        SMTPSession smtp = (SMTPSession) session;
        smtp.setAttachment(PollContext.KEY, poll, ProtocolSession.State.Connection);
        // Already false without authorizedAddresses; said again because it is the trust rule.
        smtp.setRelayingAllowed(false);
        return poll;
    }

    /** Ends every poll in flight (each reports FAILED, or RECEIVED with what it had enqueued) and frees the threads. */
    @Override
    public void close() {
        closed = true;
        channels.close().awaitUninterruptibly(30, TimeUnit.SECONDS);
        loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(30, TimeUnit.SECONDS);
        try {
            server.close();
        } catch (RuntimeException e) {
            LOGGER.warn("Closing the ODMR customer's SMTP handlers failed", e);
        }
    }

}
