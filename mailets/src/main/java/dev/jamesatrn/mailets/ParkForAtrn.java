package dev.jamesatrn.mailets;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;
import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.store.ParkedMailStore;
import dev.jamesatrn.store.ReceiptOrder;

/**
 * Parks mail for ATRN domains: one copy per ATRN domain, each carrying only that domain's
 * recipients, stored in the domain's repository. Recipients of other domains stay on the mail,
 * which goes on through the processor; when none remain the mail is ghosted. A storage failure
 * throws, so James's error processing keeps the message. Each copy's name carries the message's
 * place in the delivery order, when James accepted it ({@link ReceiptOrder}), not when it was
 * parked.
 */
public class ParkForAtrn extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkForAtrn.class);

    private final ParkedMailStore store;
    private final AtrnConfiguration configuration;
    private final AtrnMetrics metrics;

    @Inject
    public ParkForAtrn(ParkedMailStore store, AtrnConfiguration configuration, AtrnMetrics metrics) {
        this.store = store;
        this.configuration = configuration;
        this.metrics = metrics;
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        Map<Domain, List<MailAddress>> byDomain = new LinkedHashMap<>();
        List<MailAddress> others = new ArrayList<>();
        for (MailAddress recipient : mail.getRecipients()) {
            if (configuration.isAtrnDomain(recipient.getDomain())) {
                byDomain.computeIfAbsent(recipient.getDomain(), d -> new ArrayList<>()).add(recipient);
            } else {
                others.add(recipient);
            }
        }
        for (Map.Entry<Domain, List<MailAddress>> entry : byDomain.entrySet()) {
            park(mail, entry.getKey(), entry.getValue());
        }
        if (others.isEmpty()) {
            mail.setState(Mail.GHOST);
        } else {
            mail.setRecipients(others);
        }
    }

    private void park(Mail mail, Domain domain, Collection<MailAddress> recipients) throws MessagingException {
        MailImpl copy = MailImpl.duplicate(mail);
        try {
            copy.setRecipients(recipients);
            copy.setName(ParkedMailStore.nameForParking(mail, copy.getMessageSize()));
            store.park(domain, copy);
            metrics.parked();
            LOGGER.info("Parked {} for ATRN domain {} ({} recipient(s), {} bytes)", copy.getName(), domain.asString(),
                recipients.size(), copy.getMessageSize());
        } finally {
            LifecycleUtil.dispose(copy);
        }
    }

    @Override
    public String getMailetInfo() {
        return "Parks mail for ATRN (RFC 2645) domains until the customer claims it";
    }
}
