package dev.jamesatrn.customer;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.james.protocols.smtp.core.ReceivedDataLineFilter;
import org.apache.james.smtpserver.AuthRequiredToRelayRcptHook;
import org.apache.james.smtpserver.CoreCmdHandlerLoader;
import org.apache.james.smtpserver.SendMailHandler;
import org.apache.james.smtpserver.SenderAuthIdentifyVerificationHook;
import org.apache.james.smtpserver.UsersRepositoryAuthHook;
import org.apache.james.protocols.smtp.core.esmtp.AuthCmdHandler;

/**
 * The core handlers of the reversed session: James's own ({@link CoreCmdHandlerLoader}), so the
 * provider meets James's SMTP server (EHLO extensions, SIZE, PIPELINING, 8BITMIME, DATA, spool),
 * with these changes, each because the peer is a provider we called, not a client that called us:
 * <ul>
 * <li>no AUTH ({@code AuthCmdHandler}, {@code UsersRepositoryAuthHook},
 * {@code SenderAuthIdentifyVerificationHook}): the provider has no account here, and a
 * successful AUTH would make James treat it as a local user (relaying, ESMTPA);</li>
 * <li>no {@code AuthRequiredToRelayRcptHook}: which recipients are accepted is decided by
 * {@link RequestedDomainsRcptHook} (the domains this poll requested), never by relay rights;</li>
 * <li>James's Received header replaced by {@link OdmrPullReceivedHeader} (same header, marked as
 * an ODMR pull), its enqueueing by {@link CountingSendMailHandler} (same enqueueing, counted).</li>
 * </ul>
 */
public class CustomerHandlersPackage extends CoreCmdHandlerLoader {
    private static final Set<String> LEFT_OUT = Set.of(
        AuthCmdHandler.class.getName(),
        UsersRepositoryAuthHook.class.getName(),
        SenderAuthIdentifyVerificationHook.class.getName(),
        AuthRequiredToRelayRcptHook.class.getName());
    private static final Map<String, String> REPLACED = Map.of(
        ReceivedDataLineFilter.class.getName(), OdmrPullReceivedHeader.class.getName(),
        SendMailHandler.class.getName(), CountingSendMailHandler.class.getName());

    @Override
    public List<String> getHandlers() {
        List<String> core = super.getHandlers();
        for (String needed : REPLACED.keySet()) {
            if (!core.contains(needed)) {
                // Without it the reversed session would not mark or count (or not enqueue) mail.
                throw new IllegalStateException("James's CoreCmdHandlerLoader no longer lists " + needed
                    + ": this james-atrn version supports James 3.8.1. Fix: use the james-atrn build made for this James version.");
            }
        }
        return core.stream()
            .filter(handler -> !LEFT_OUT.contains(handler))
            .map(handler -> REPLACED.getOrDefault(handler, handler))
            .collect(Collectors.toUnmodifiableList());
    }
}
