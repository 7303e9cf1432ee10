package dev.jamesatrn.smtpserver;

import javax.mail.MessagingException;

import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.smtpserver.JamesMessageHook;
import org.apache.mailet.Mail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses at end of DATA ({@code 554 5.4.6}) a message with {@value #MAX_RECEIVED} or more
 * {@code Received} headers, as Postfix ({@code hopcount_limit}) and Exim
 * ({@code received_headers_max}) do, instead of accepting it and leaving it to the sample's
 * {@code RelayLimit=30}, whose DSN would go to an address anyone can forge (backscatter) and
 * whose repository anyone could fill.
 *
 * <p>James 3.8.1's {@code ReceivedDataLineFilter} has already put James's own {@code Received}
 * header in front of the message when the message hooks run, so the count here is the one
 * {@code RelayLimit} makes in the spooler: with the same threshold, every message SMTP would
 * have handed to the {@code relay-limit} processor is refused here. (The name is compared
 * ignoring case, {@code RelayLimit} compares it exactly, so this refuses a little more.)
 * {@code AtrnInboundHandlersPackage} lists it right before {@link ReceiptOrderHook}.
 */
public class HopCountHook implements JamesMessageHook {
    /** The sample's {@code RelayLimit=30}. */
    static final int MAX_RECEIVED = 30;

    private static final Logger LOGGER = LoggerFactory.getLogger(HopCountHook.class);

    @Override
    public HookResult onMessage(SMTPSession session, Mail mail) {
        int received;
        try {
            String[] headers = mail.getMessage().getHeader("Received");
            received = headers == null ? 0 : headers.length;
        } catch (MessagingException e) {
            // An unreadable message fails in the hooks after this one; RelayLimit stays behind.
            LOGGER.warn("Could not count the Received headers of {}", mail.getName(), e);
            return HookResult.DECLINED;
        }
        if (received < MAX_RECEIVED) {
            return HookResult.DECLINED;
        }
        LOGGER.info("Refused a message from {} (MAIL FROM {}) with {} Received headers: mail loop",
            session.getRemoteAddress().getAddress().getHostAddress(), mail.getMaybeSender().asString(), received);
        return HookResult.builder()
            .hookReturnCode(HookReturnCode.deny())
            .smtpReturnCode("554")
            .smtpDescription("5.4.6 Too many hops (" + received + " Received headers): this looks like a mail loop")
            .build();
    }
}
