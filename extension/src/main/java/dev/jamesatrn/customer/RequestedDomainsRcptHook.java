package dev.jamesatrn.customer;

import javax.inject.Inject;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.domainlist.api.DomainList;
import org.apache.james.domainlist.api.DomainListException;
import org.apache.james.protocols.smtp.SMTPRetCode;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.dsn.DSNStatus;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.RcptHook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trust rule of the reversed session: the provider may only hand us mail for the domains
 * this poll asked for with ATRN (RFC 2645 section 5: the provider delivers the mail queued for
 * those domains, nothing else). Any other recipient gets {@code 550 5.7.1}, so a hostile or
 * confused provider cannot use our connection to relay, nor slip mail for domains we did not
 * claim into our spool.
 *
 * <p>For a bare {@code ATRN} the provider alone knows which domains the login stands for; its
 * {@code 250} does not name them. Then "requested" means the local domains of this James
 * ({@link DomainList}): mail that James would accept as final destination anyway.
 *
 * <p>Placed as the first {@code <handler>} of the reversed server (before the operator's own),
 * because James 3.8.1 stops the RCPT chain at the first OK: an operator hook answering OK must
 * not be able to let an out-of-scope recipient in. In scope it answers DECLINED, so every other
 * RCPT hook (ValidRcptHandler, ...) still runs as on the inbound port.
 */
public class RequestedDomainsRcptHook implements RcptHook {
    private static final Logger LOGGER = LoggerFactory.getLogger(RequestedDomainsRcptHook.class);

    private final DomainList domainList;

    @Inject
    public RequestedDomainsRcptHook(DomainList domainList) {
        this.domainList = domainList;
    }

    @Override
    public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
        // The context is set before the session reads its first line; without it this is not a
        // reversed session of ours, and nothing may be accepted.
        PollContext poll = PollContext.of(session).orElse(null);
        if (poll == null) {
            return refuse(rcpt);
        }
        Domain domain = rcpt.getDomain();
        if (poll.requested().isEmpty() ? isLocal(domain) : poll.requested().contains(domain)) {
            return HookResult.DECLINED;
        }
        LOGGER.warn("ODMR provider {} offered mail for {}, a domain this poll did not request: refused", poll.providerName(),
            rcpt.asString());
        return refuse(rcpt);
    }

    private boolean isLocal(Domain domain) {
        try {
            return domainList.containsDomain(domain);
        } catch (DomainListException e) {
            LOGGER.warn("Cannot read the domain list; refusing {} in the ODMR reversed session", domain.asString(), e);
            return false;
        }
    }

    private static HookResult refuse(MailAddress rcpt) {
        return HookResult.builder()
            .hookReturnCode(HookReturnCode.deny())
            .smtpReturnCode(SMTPRetCode.MAILBOX_PERM_UNAVAILABLE)
            .smtpDescription(DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.SECURITY_AUTH)
                + " " + rcpt.asString() + ": not a domain this ATRN session requested")
            .build();
    }
}
