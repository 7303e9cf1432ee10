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

import dev.jamesatrn.mailets.AtrnConfiguration;

/**
 * The inbound side of the "atrn" address class: on the ordinary SMTP port, recipients in ATRN
 * domains are accepted from anyone, like a relay domain, unless the domain has a recipient list
 * that does not name them. Listed as a {@code <handler>} before James's core handlers so it
 * answers before {@code AuthRequiredToRelayRcptHook}.
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
            .map(domain -> domain.accepts(rcpt)
                ? HookResult.OK
                : HookResult.builder()
                    .hookReturnCode(HookReturnCode.deny())
                    .smtpReturnCode(SMTPRetCode.MAILBOX_PERM_UNAVAILABLE)
                    .smtpDescription(DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.ADDRESS_MAILBOX)
                        + " " + rcpt.asString() + ": no such recipient here")
                    .build())
            .orElse(HookResult.DECLINED);
    }
}
