package dev.jamesatrn.customer;

import javax.inject.Inject;
import javax.mail.MessagingException;

import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.smtpserver.SendMailHandler;
import org.apache.mailet.Mail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * James's own enqueueing (the spool, and the {@code 250} to end-of-data only once it returned),
 * counting what a poll received: a message counts once James enqueued it, which is exactly when
 * the provider gets our 250 and may forget it.
 */
public class CountingSendMailHandler extends SendMailHandler {
    private static final Logger LOGGER = LoggerFactory.getLogger(CountingSendMailHandler.class);

    @Inject
    public CountingSendMailHandler(MailQueueFactory<?> queueFactory) {
        super(queueFactory);
    }

    @Override
    public HookResult onMessage(SMTPSession session, Mail mail) {
        long size = size(mail);
        HookResult result = super.onMessage(session, mail);
        if (result.getResult().getAction() == HookReturnCode.Action.OK) {
            PollContext.of(session).ifPresent(poll -> poll.enqueued(size));
        }
        return result;
    }

    private static long size(Mail mail) {
        try {
            return mail.getMessageSize();
        } catch (MessagingException e) {
            LOGGER.debug("Size of {} unknown", mail.getName(), e);
            return 0;
        }
    }
}
