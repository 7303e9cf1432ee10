package dev.jamesatrn.testing.smtp;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;

/** A local SMTP server standing in for the customer's MTA behind fetchmail: accepts everything. */
public final class SmtpSink implements AutoCloseable {
    private final LoopbackServer server;
    private final CustomerServer customer;

    public SmtpSink() throws IOException {
        this(0, message -> {
        });
    }

    public SmtpSink(int port, Consumer<CustomerServer.Received> onReceived) throws IOException {
        this(port, new CustomerServer(CustomerServer.Script.ACCEPT_ALL, onReceived));
    }

    /** Every connection served by {@code customer} (its script decides each reply), on a free port. */
    public SmtpSink(CustomerServer customer) throws IOException {
        this(0, customer);
    }

    private SmtpSink(int port, CustomerServer customer) throws IOException {
        this(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), customer);
    }

    /** Every connection served by {@code customer}, at a chosen address (e.g. one of a relay name's addresses). */
    public SmtpSink(InetSocketAddress at, CustomerServer customer) throws IOException {
        this.customer = customer;
        // one thread per connection: RemoteDelivery and Postfix deliver over several at once
        server = LoopbackServer.start(at, "smtp-sink", socket -> {
            socket.setSoTimeout(60_000);
            customer.serve(new BufferedInputStream(socket.getInputStream(), 65536), socket.getOutputStream(), true);
        });
    }

    public SmtpSink discardingData() {
        customer.discardingData();
        return this;
    }

    public int port() {
        return server.port();
    }

    public InetSocketAddress address() {
        return server.address();
    }

    public List<CustomerServer.Received> received() {
        return customer.received;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
