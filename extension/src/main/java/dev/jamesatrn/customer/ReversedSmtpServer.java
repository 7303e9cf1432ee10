package dev.jamesatrn.customer;

import java.util.ArrayList;
import java.util.List;

import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.lib.handler.ProtocolHandlerLoader;
import org.apache.james.protocols.lib.handler.HandlersPackage;
import org.apache.james.protocols.netty.AbstractChannelPipelineFactory;
import org.apache.james.protocols.netty.ChannelHandlerFactory;
import org.apache.james.protocols.netty.LineDelimiterBasedChannelHandlerFactory;
import org.apache.james.smtpserver.netty.SMTPServer;
import org.apache.james.smtpserver.netty.SmtpMetricsImpl;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.EventExecutorGroup;

/**
 * James's SMTP server, configured like the operator's inbound {@code <smtpserver>}, that never
 * binds a port: after the provider's {@code 250} to ATRN its pipeline is installed on the
 * connection we opened (RFC 2645 section 4: the customer becomes the SMTP server on that
 * connection). Everything past the turn (greeting, EHLO keywords, SIZE, hooks, DATA, spool,
 * connectiontimeout) is therefore James's own, from the same configuration as inbound SMTP.
 *
 * <p>Departures from James's {@code SMTPServer}. Because this server is never bound:
 * {@code init()} is not called (it binds and registers an MBean); {@link #prepare()} runs only its
 * {@code preInit()} (the handler chain); the frame handler factory, which only {@code init()}
 * sets, comes from {@link #getFrameHandlerFactory()}; {@link #close()} replaces
 * {@code destroy()}'s MBean unregistering. Because the peer is a provider whose input must be
 * bounded like the rest: the framer runs on the event loop and reading stops while replies are
 * not read ({@link #getExecutorGroup()}, {@link ReplyBackpressure}). And the copied configuration
 * is changed ({@link #reversedConfiguration}).
 */
final class ReversedSmtpServer extends SMTPServer {
    /** {@code jmxName} of the copy: names its handler threads; JMX stays off for it. */
    static final String JMX_NAME = "atrncustomer";
    static final String BACKPRESSURE = "atrn-customer-backpressure";

    private final ChannelHandlerFactory frames =
        new LineDelimiterBasedChannelHandlerFactory(AbstractChannelPipelineFactory.MAX_LINE_LENGTH);
    private boolean prepared;

    private ReversedSmtpServer(MetricFactory metricFactory) {
        super(new SmtpMetricsImpl(metricFactory));
    }

    static ReversedSmtpServer create(HierarchicalConfiguration<ImmutableNode> inbound, FileSystem fileSystem,
                                     ProtocolHandlerLoader loader, DNSService dns, MetricFactory metricFactory) throws Exception {
        ReversedSmtpServer server = new ReversedSmtpServer(metricFactory);
        server.setFileSystem(fileSystem);
        server.setProtocolHandlerLoader(loader);
        server.setDnsService(dns);
        server.configure(reversedConfiguration(inbound));
        server.prepare();
        return server;
    }

    /**
     * The inbound server's settings (helloName, greeting, maxmessagesize, connectiontimeout,
     * enforcements, the operator's hooks), minus what must not apply to a provider we called:
     * <ul>
     * <li>{@code tls}: the connection's TLS is the one we negotiated before AUTH; STARTTLS inside
     * the reversed session is not offered (and James's STARTTLS would put a server-side SslHandler
     * on a connection where we are the TLS client);</li>
     * <li>{@code authorizedAddresses}: the provider's address never gains relay rights;</li>
     * <li>connection limits and {@code proxyRequired}: they count or parse accepted connections;
     * this one we opened ourselves;</li>
     * <li>the core handlers: {@link CustomerHandlersPackage}; the operator's {@code <handler>}s are
     * kept, except those of this extension's provider role (ATRN, ETRN, ODMR AUTH), which make no
     * sense towards a provider; {@link RequestedDomainsRcptHook} goes first.</li>
     * </ul>
     */
    static HierarchicalConfiguration<ImmutableNode> reversedConfiguration(HierarchicalConfiguration<ImmutableNode> inbound) {
        BaseHierarchicalConfiguration copy = new BaseHierarchicalConfiguration(inbound);
        copy.setProperty("[@enabled]", true);
        copy.clearTree("tls");
        copy.clearTree("authorizedAddresses");
        copy.setProperty("connectionLimit", 0);
        copy.setProperty("connectionLimitPerIP", 0);
        copy.setProperty("proxyRequired", false);
        copy.setProperty("jmxName", JMX_NAME);
        List<ImmutableNode> handlers = new ArrayList<>();
        handlers.add(new ImmutableNode.Builder().name("handler")
            .addAttribute("class", RequestedDomainsRcptHook.class.getName()).create());
        for (HierarchicalConfiguration<ImmutableNode> handler : copy.configurationsAt("handlerchain.handler")) {
            String className = handler.getString("[@class]", "");
            if (!className.startsWith("dev.jamesatrn.")) {
                handlers.add(handler.getNodeModel().getNodeHandler().getRootNode());
            }
        }
        copy.clearTree("handlerchain");
        copy.addProperty("handlerchain[@enableJmx]", false);
        copy.addProperty("handlerchain[@coreHandlersPackage]", CustomerHandlersPackage.class.getName());
        copy.addNodes("handlerchain", handlers);
        return copy;
    }

    private void prepare() throws Exception {
        preInit();
        prepared = true;
    }

    /**
     * A new James pipeline (framer, chunked writes, idle timeout, core handler) for one
     * connection, behind {@link ReplyBackpressure}.
     */
    ChannelInitializer<SocketChannel> pipeline() {
        ChannelInitializer<SocketChannel> james = createPipelineFactory();
        return new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel channel) {
                channel.pipeline().addLast(BACKPRESSURE, new ReplyBackpressure()).addLast(james);
            }
        };
    }

    @Override
    protected EventExecutorGroup getExecutorGroup() {
        // James 3.8.1 runs its framer on this group: every read is queued to it as it arrives,
        // however far behind the SMTP handlers are, so a peer pipelining without end fills the
        // heap. On the channel's event loop (where James's core handler runs anyway) a read is
        // handled before the next one, and ReplyBackpressure can stop the reading.
        return null;
    }

    /**
     * Stops reading while the provider does not read our replies (channel not writable: more
     * than Netty's high water mark, 64 KB, waiting), and reads again once it does. James 3.8.1
     * has no such limit: a provider pipelining commands without reading a reply made it buffer
     * replies without bound. Not reading, the session ends by James's own idle timeout
     * ({@code connectiontimeout}) if the provider never catches up.
     */
    static final class ReplyBackpressure extends ChannelInboundHandlerAdapter {
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }
    }

    @Override
    protected ChannelHandlerFactory getFrameHandlerFactory() {
        // James's own AllButStartTls framer rescans its unread input on every read (quadratic on a
        // long DATA in few reads); it only exists to cut the input at STARTTLS, which this server
        // does not offer. The plain line framer of James with the same line limit does the rest.
        return frames;
    }

    @Override
    public String getServiceType() {
        // James's configure() logs the copied <bind> as "bound to": say that it is not
        return "SMTP service of the ODMR customer (reversed sessions only, never bound)";
    }

    @Override
    protected Class<? extends HandlersPackage> getCoreHandlersPackage() {
        return CustomerHandlersPackage.class;
    }

    @Override
    protected void unregisterMBean() {
        // never registered: init() is not called
    }

    /** Destroys the handler chain (James's SendMailHandler closes its spool handle) and the executors. */
    void close() {
        if (prepared) {
            destroy();
            prepared = false;
        }
    }

}
