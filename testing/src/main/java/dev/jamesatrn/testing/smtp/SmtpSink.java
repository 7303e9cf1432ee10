package dev.jamesatrn.testing.smtp;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.function.Consumer;

/** A local SMTP server standing in for the customer's MTA behind fetchmail: accepts everything. */
public final class SmtpSink implements AutoCloseable {
    private final ServerSocket server;
    private final CustomerServer customer;
    private final Thread acceptor;

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
        server = new ServerSocket();
        server.bind(at, 10);
        acceptor = new Thread(this::acceptLoop, "smtp-sink");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public SmtpSink discardingData() {
        customer.discardingData();
        return this;
    }

    public int port() {
        return server.getLocalPort();
    }

    public List<CustomerServer.Received> received() {
        return customer.received;
    }

    /** One thread per connection: RemoteDelivery and Postfix deliver over several at once. */
    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread connection = new Thread(() -> serve(socket), "smtp-sink-connection");
                connection.setDaemon(true);
                connection.start();
            } catch (IOException e) {
                // sink closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(60_000);
            customer.serve(new BufferedInputStream(socket.getInputStream(), 65536), socket.getOutputStream(), true);
        } catch (IOException e) {
            // connection over: nothing to keep
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
