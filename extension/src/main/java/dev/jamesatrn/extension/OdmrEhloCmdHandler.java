package dev.jamesatrn.extension;

import java.util.List;

import javax.inject.Inject;

import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloCmdHandler;

/**
 * James's EHLO, minus the keywords of a mail-submission port: PIPELINING and 8BITMIME make no
 * sense where MAIL is refused. The ODMR keywords (AUTH, ATRN, STARTTLS) come from their handlers.
 */
public class OdmrEhloCmdHandler extends EhloCmdHandler {
    @Inject
    public OdmrEhloCmdHandler(MetricFactory metricFactory) {
        super(metricFactory);
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return List.of("ENHANCEDSTATUSCODES");
    }
}
