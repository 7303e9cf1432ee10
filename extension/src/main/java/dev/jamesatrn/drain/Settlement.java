package dev.jamesatrn.drain;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.mail.MessagingException;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.core.AtrnMetrics;
import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer.Reply;
import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * What one transaction's per-recipient outcomes do to the parked copy (Postfix's smtp_trouble.c:
 * defer or bounce each recipient): removed once nothing is owed, bounced for the refused
 * recipients, kept with only the recipients still owed; and the drain's counts, in James's
 * metrics too as they happen.
 */
final class Settlement {
    private static final Logger LOGGER = LoggerFactory.getLogger(Settlement.class);
    // How much of the customer's reply a DSN quotes: a multi-line 5xx text in full, never a flood.
    private static final int DSN_REPLY_EXCERPT = 1000;

    /** A transaction's recipients: still owed (4xx) or refused (5xx, with the reply that refused them). */
    static final class Recipients {
        final List<MailAddress> stillOwed = new ArrayList<>();
        final Map<MailAddress, Reply> refused = new LinkedHashMap<>();

        void sortOut(Collection<MailAddress> recipients, Reply reply) {
            for (MailAddress recipient : recipients) {
                if (reply.transientFailure()) {
                    stillOwed.add(recipient);
                } else {
                    refused.put(recipient, reply);
                }
            }
        }
    }

    private final ParkedMailStore store;
    private final MailetContext mailetContext;
    private final String bounceProcessor;
    private final Optional<AtrnMetrics> metrics;
    private final TransferSlots.Holder slot;
    private int delivered;
    private int deferred;
    private int bounced;

    Settlement(ParkedMailStore store, MailetContext mailetContext, String bounceProcessor, Optional<AtrnMetrics> metrics,
               TransferSlots.Holder slot) {
        this.store = store;
        this.mailetContext = mailetContext;
        this.bounceProcessor = bounceProcessor;
        this.metrics = metrics;
        this.slot = slot;
    }

    void delivered() {
        delivered++;
        metrics.ifPresent(AtrnMetrics::delivered);
    }

    /** A message that stays parked, in part or whole. */
    void deferred() {
        deferred++;
        metrics.ifPresent(AtrnMetrics::deferred);
    }

    private void bounced() {
        bounced++;
        metrics.ifPresent(AtrnMetrics::bounced);
    }

    int deliveredCount() {
        return delivered;
    }

    int deferredCount() {
        return deferred;
    }

    int bouncedCount() {
        return bounced;
    }

    /** Applies the outcome of one transaction to the parked copy. */
    void settle(Domain domain, MailKey key, Mail mail, Recipients outcome, Reply lastFailure)
            throws Broken, MessagingException {
        slot.work();
        List<MailAddress> owedAfter = new ArrayList<>(outcome.stillOwed);
        // One bounce per distinct reply, so each refused recipient's DSN quotes its own reason.
        Map<Reply, List<MailAddress>> byReason = new LinkedHashMap<>();
        outcome.refused.forEach((recipient, reply) -> byReason.computeIfAbsent(reply, r -> new ArrayList<>()).add(recipient));
        for (Map.Entry<Reply, List<MailAddress>> entry : byReason.entrySet()) {
            if (bounce(mail, entry.getValue(), entry.getKey())) {
                bounced();
            } else {
                owedAfter.addAll(entry.getValue());
            }
        }
        if (owedAfter.isEmpty()) {
            store.remove(domain, key);
            return;
        }
        deferred();
        if (!Set.copyOf(owedAfter).equals(Set.copyOf(mail.getRecipients()))) {
            store.replaceRecipients(domain, key, mail, owedAfter);
        }
        LOGGER.info("Kept {} for {} parked for {} recipient(s): {}", key.asString(), domain.asString(), owedAfter.size(),
            lastFailure == null ? "" : SmtpPeer.abbreviate(lastFailure.text()));
    }

    private boolean bounce(Mail mail, Collection<MailAddress> recipients, Reply reason) {
        try {
            Bounces.sendCopy(mailetContext, mail, recipients, bounceProcessor,
                reason.enhancedStatus().orElse(Bounces.UNDEFINED_PERMANENT),
                "The ATRN customer refused the message: " + SmtpPeer.abbreviate(reason.text(), DSN_REPLY_EXCERPT));
            LOGGER.info("Bounced {} for {} recipient(s): {}", mail.getName(), recipients.size(),
                SmtpPeer.abbreviate(reason.text()));
            return true;
        } catch (MessagingException | RuntimeException e) {
            LOGGER.error("Could not hand {} to the '{}' processor for a bounce; it stays parked", mail.getName(),
                bounceProcessor, e);
            return false;
        }
    }
}
