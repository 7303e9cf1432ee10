package dev.jamesatrn.drain;

import java.time.Duration;
import java.util.List;

import dev.jamesatrn.smtp.SmtpPeer;

/**
 * A drain's peer, giving its transfer slot back before every call: each may wait on the network
 * (a reply, room to write), and a slot is for James's own work only ({@link TransferSlots}).
 */
final class PacedPeer implements SmtpPeer {
    private final SmtpPeer peer;
    private final TransferSlots.Holder slot;

    PacedPeer(SmtpPeer peer, TransferSlots.Holder slot) {
        this.peer = peer;
        this.slot = slot;
    }

    @Override
    public void sendAll(List<String> commandLines) throws Broken {
        slot.idle();
        peer.sendAll(commandLines);
    }

    @Override
    public Reply await(Duration timeout, String awaiting) throws Broken {
        slot.idle();
        return peer.await(timeout, awaiting);
    }

    @Override
    public void sendData(byte[] chunk, int length, Duration timeout) throws Broken {
        slot.idle();
        peer.sendData(chunk, length, timeout);
    }

    @Override
    public void close() {
        slot.idle();
        peer.close();
    }

    @Override
    public boolean canStartTls() {
        return peer.canStartTls();
    }

    @Override
    public void startTls() throws Broken {
        slot.idle();
        peer.startTls();
    }

    @Override
    public boolean isTls() {
        return peer.isTls();
    }
}
