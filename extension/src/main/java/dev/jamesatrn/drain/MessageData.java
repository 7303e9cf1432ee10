package dev.jamesatrn.drain;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

import javax.mail.MessagingException;
import javax.mail.internet.MimeMessage;

import org.apache.james.server.core.MimeMessageWrapper;
import org.apache.mailet.Mail;

import dev.jamesatrn.smtp.DotStuffingOutputStream;
import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer;

/** A parked message's data after 354: its stored bytes, dot-stuffed, and the final dot (RFC 5321 4.5.2). */
final class MessageData {
    // Message bytes are read and sent in pieces of this size: memory per session stays bounded.
    private static final int CHUNK_SIZE = 64 * 1024;

    private MessageData() {
    }

    /** @return the bytes sent, the final dot included */
    static long send(SmtpPeer peer, Mail mail, Duration dataBlock, TransferSlots.Holder slot) throws Broken {
        // The slot covers reading the store and dot-stuffing, not the wait for room to write.
        DotStuffingOutputStream body = new DotStuffingOutputStream((chunk, length) -> {
            peer.sendData(chunk, length, dataBlock);
            slot.work();
        }, CHUNK_SIZE);
        slot.work();
        try {
            writeMessage(mail.getMessage(), body);
            body.finishWithEndOfData();
        } catch (DotStuffingOutputStream.BrokenWhileWriting e) {
            throw e.cause;
        } catch (IOException | MessagingException | RuntimeException e) {
            // The customer already has part of the message: the only safe end is to drop the
            // connection before the final dot (RFC 5321 section 4.1.1.4), leaving it parked.
            // (James's file streams report a file that vanished as a RuntimeException.)
            throw new Broken("parked message " + mail.getName() + " unreadable mid-DATA (" + e.getMessage()
                + "); connection dropped");
        }
        return body.bytesWritten();
    }

    /**
     * The stored bytes themselves when James holds the message unchanged (a MimeMessageWrapper
     * over the repository's stream): MimeMessage.writeTo would first parse every header and
     * write it out again, which thread dumps of the benchmark showed as the drain's main cost.
     */
    private static void writeMessage(MimeMessage message, OutputStream out) throws IOException, MessagingException {
        if (message instanceof MimeMessageWrapper) {
            MimeMessageWrapper wrapper = (MimeMessageWrapper) message;
            if (!wrapper.isModified()) {
                try (InputStream in = wrapper.getMessageInputStream()) {
                    in.transferTo(out);
                }
                return;
            }
        }
        message.writeTo(out);
    }
}
