package dev.jamesatrn.it;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;

/** A local SMTP server standing in for the customer's MTA behind fetchmail: accepts everything. */
final class SmtpSink implements AutoCloseable {
    private final ServerSocket server;
    private final CustomerServer customer = new CustomerServer(CustomerServer.Script.ACCEPT_ALL);
    private final Thread acceptor;

    SmtpSink() throws IOException {
        server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "smtp-sink");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    List<CustomerServer.Received> received() {
        return customer.received;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try (Socket socket = server.accept()) {
                socket.setSoTimeout(60_000);
                customer.serve(new BufferedInputStream(socket.getInputStream()), socket.getOutputStream(), true);
            } catch (IOException e) {
                // connection over (or sink closed): wait for the next one
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
