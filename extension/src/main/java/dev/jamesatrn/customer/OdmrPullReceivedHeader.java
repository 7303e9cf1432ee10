package dev.jamesatrn.customer;

import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.ReceivedDataLineFilter;

/**
 * James's own Received header, with a comment after the protocol that marks the message as
 * pulled over ODMR and names the provider: "with ESMTP (ODMR pull from provider-name)". The
 * comment is legal there (RFC 5322 CFWS) and is the one place 3.8.1 lets a subclass add text
 * ({@code getServiceType}); the rest of the header (from, by, id, for, date) stays James's.
 */
public class OdmrPullReceivedHeader extends ReceivedDataLineFilter {
    @Override
    protected String getServiceType(SMTPSession session, String heloMode) {
        String james = super.getServiceType(session, heloMode);
        return PollContext.of(session)
            .map(poll -> james + " (ODMR pull from " + commentSafe(poll.providerName()) + ")")
            .orElse(james);
    }

    /** A header comment may not hold parentheses, backslashes or line ends. */
    static String commentSafe(String name) {
        StringBuilder safe = new StringBuilder(Math.min(name.length(), 64));
        for (int i = 0; i < name.length() && i < 64; i++) {
            char c = name.charAt(i);
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '-' || c == '_' || c == '@';
            safe.append(plain ? c : '_');
        }
        return safe.toString();
    }
}
