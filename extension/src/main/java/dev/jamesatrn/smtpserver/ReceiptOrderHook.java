package dev.jamesatrn.smtpserver;

import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.smtpserver.JamesMessageHook;
import org.apache.mailet.Mail;

import dev.jamesatrn.store.ReceiptOrder;

/**
 * Stamps each message the inbound SMTP server accepts with its place in the delivery order
 * ({@link ReceiptOrder}), before James hands it to its spooler, which may park messages of one
 * connection in any order. {@code AtrnInboundHandlersPackage} lists it right before James's
 * SendMailHandler, which queues the mail: James runs message hooks in the order of the chain.
 */
public class ReceiptOrderHook implements JamesMessageHook {
    @Override
    public HookResult onMessage(SMTPSession session, Mail mail) {
        ReceiptOrder.stamp(mail);
        return HookResult.DECLINED;
    }
}
