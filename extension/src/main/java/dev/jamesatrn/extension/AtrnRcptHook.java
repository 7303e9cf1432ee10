package dev.jamesatrn.extension;

import javax.inject.Inject;

import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.smtp.SMTPRetCode;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.dsn.DSNStatus;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.RcptHook;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.smtpserver.AtrnRelayRcptHook;

/**
 * The recipient list of an ATRN domain on the ordinary SMTP port: a recipient the list does not
 * name gets 550 5.1.1. Everything else is DECLINED, never OK: James 3.8.1 stops its RCPT chain at
 * the first OK, and every other RCPT hook (MaxRcptHandler, DNSRBLHandler, greylisting...) must run
 * for ATRN recipients as for any other. Whether they may be relayed is decided by
 * {@link AtrnRelayRcptHook}; both come with {@link AtrnInboundHandlersPackage}.
 */
public class AtrnRcptHook implements RcptHook {
    private final AtrnConfiguration configuration;

    @Inject
    public AtrnRcptHook(AtrnConfiguration configuration) {
        this.configuration = configuration;
    }

    @Override
    public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
        return configuration.domain(rcpt.getDomain())
            .filter(domain -> !domain.accepts(rcpt))
            .map(domain -> HookResult.builder()
                .hookReturnCode(HookReturnCode.deny())
                .smtpReturnCode(SMTPRetCode.MAILBOX_PERM_UNAVAILABLE)
                .smtpDescription(DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.ADDRESS_MAILBOX)
                    + " " + rcpt.asString() + ": no such recipient here")
                .build())
            .orElse(HookResult.DECLINED);
    }
}
