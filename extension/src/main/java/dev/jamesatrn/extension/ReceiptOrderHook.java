package dev.jamesatrn.extension;

import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.smtpserver.JamesMessageHook;
import org.apache.mailet.Mail;

import dev.jamesatrn.mailets.ReceiptOrder;

/**
 * Stamps each message the inbound SMTP server accepts with its place in the delivery order
 * ({@link ReceiptOrder}), before James hands it to its spooler, which may park messages of one
 * connection in any order. A {@code <handler>} of smtpserver.xml, listed before James's
 * CoreCmdHandlerLoader: James runs message hooks in the order of the handler chain, and its own
 * SendMailHandler, which queues the mail, comes with that loader.
 */
public class ReceiptOrderHook implements JamesMessageHook {
    @Override
    public HookResult onMessage(SMTPSession session, Mail mail) {
        ReceiptOrder.stamp(mail);
        return HookResult.DECLINED;
    }
}
