package dev.jamesatrn.mailets;

import javax.inject.Inject;

import org.apache.james.core.MailAddress;
import org.apache.mailet.base.GenericRecipientMatcher;
import dev.jamesatrn.config.AtrnConfiguration;

/**
 * Matches the recipients whose domain is an ATRN domain. James splits the mail when only
 * some recipients match, so the ATRN part goes to {@link ParkForAtrn} and the rest carries on
 * through the processor unchanged.
 */
public class RecipientIsAtrnDomain extends GenericRecipientMatcher {
    private final AtrnConfiguration configuration;

    @Inject
    public RecipientIsAtrnDomain(AtrnConfiguration configuration) {
        this.configuration = configuration;
    }

    @Override
    public boolean matchRecipient(MailAddress recipient) {
        return configuration.isAtrnDomain(recipient.getDomain());
    }
}
