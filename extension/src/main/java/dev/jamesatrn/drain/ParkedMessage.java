package dev.jamesatrn.drain;

import org.apache.james.mailrepository.api.MailKey;
import org.apache.mailet.Mail;

/** A parked message read from the store; {@code envelopeSent}: its MAIL/RCPT/DATA already went out. */
final class ParkedMessage {
    private final MailKey key;
    private final Mail mail;
    private final long size;
    private final boolean envelopeSent;

    ParkedMessage(MailKey key, Mail mail, long size, boolean envelopeSent) {
        this.key = key;
        this.mail = mail;
        this.size = size;
        this.envelopeSent = envelopeSent;
    }

    MailKey key() {
        return key;
    }

    Mail mail() {
        return mail;
    }

    long size() {
        return size;
    }

    boolean envelopeSent() {
        return envelopeSent;
    }

    ParkedMessage withEnvelopeSent() {
        return new ParkedMessage(key, mail, size, true);
    }
}
