package dev.jamesatrn.drain;

import java.util.concurrent.Semaphore;

import dev.jamesatrn.smtp.SmtpPeer.Broken;

/**
 * {@code maxParallelTransfers} slots shared by every drain (ATRN and ETRN), so that drains never
 * take every core from inbound SMTP. A drain holds a slot only while James works for it: reading
 * the store, preparing message data, changing the store. It gives the slot back before anything
 * that waits on its peer (a reply, room to write), so a slow or hostile customer, or a
 * tarpitting MX, costs a thread but never a slot.
 */
public final class TransferSlots {
    // Fair: drains waiting for a slot take turns, none starves behind a busy one.
    private final Semaphore slots;

    public TransferSlots(int slots) {
        this.slots = new Semaphore(slots, true);
    }

    /** For a drain that shares no slots (tests, tools): it never waits for one. */
    static TransferSlots unlimited() {
        return new TransferSlots(Integer.MAX_VALUE);
    }

    /** What one drain holds; used by its own thread only. */
    Holder holder() {
        return new Holder();
    }

    final class Holder {
        private boolean held;

        /** Takes a slot unless this drain already holds one. */
        void work() throws Broken {
            if (held) {
                return;
            }
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Broken("interrupted while waiting for a transfer slot");
            }
            held = true;
        }

        /** Gives the slot back, if held: the drain is about to wait on the network, or is done. */
        void idle() {
            if (held) {
                held = false;
                slots.release();
            }
        }
    }
}
