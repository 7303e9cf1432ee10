package dev.jamesatrn.smtpserver;

import java.util.List;

import javax.inject.Inject;

import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloCmdHandler;

/**
 * James's EHLO without its own keywords: PIPELINING and 8BITMIME make no sense where MAIL is
 * refused, and ENHANCEDSTATUSCODES would oblige every reply to carry one, while RFC 2645 gives
 * ATRN's replies as plain text ("250 OK now reversing the connection"). The ODMR keywords
 * (AUTH, STARTTLS, ATRN) come from their own handlers.
 */
public class OdmrEhloCmdHandler extends EhloCmdHandler {
    @Inject
    public OdmrEhloCmdHandler(MetricFactory metricFactory) {
        super(metricFactory);
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return List.of();
    }
}
