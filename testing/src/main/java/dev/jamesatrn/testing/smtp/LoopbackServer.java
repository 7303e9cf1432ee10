package dev.jamesatrn.testing.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A test peer's listening side: accepts on a loopback address and serves every connection on a
 * daemon thread of its own, as RemoteDelivery, Postfix and two James nodes deliver over several
 * connections at once. The connection is closed once {@link Connection#serve} returns or throws.
 */
public final class LoopbackServer implements AutoCloseable {
    /** One accepted connection; an IOException just ends it (the peer hung up, or the test is over). */
    public interface Connection {
        void serve(Socket socket) throws IOException;
    }

    private final ServerSocket server;

    private LoopbackServer(ServerSocket server, String name, Connection connection) {
        this.server = server;
        Thread acceptor = new Thread(() -> acceptLoop(name, connection), name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** On a free loopback port. */
    public static LoopbackServer start(String name, Connection connection) throws IOException {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), name, connection);
    }

    /** At a chosen address (e.g. one of a relay name's addresses). */
    public static LoopbackServer start(InetSocketAddress at, String name, Connection connection) throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            server.bind(at, 50);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        return new LoopbackServer(server, name, connection);
    }

    public int port() {
        return server.getLocalPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    private void acceptLoop(String name, Connection connection) {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread serving = new Thread(() -> serve(socket, connection), name + "-connection");
                serving.setDaemon(true);
                serving.start();
            } catch (IOException e) {
                // closed: the test is over
            }
        }
    }

    private static void serve(Socket socket, Connection connection) {
        try (socket) {
            connection.serve(socket);
        } catch (IOException e) {
            // connection over: nothing to keep
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
