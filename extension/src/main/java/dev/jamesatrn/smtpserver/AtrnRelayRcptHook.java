package dev.jamesatrn.smtpserver;

import javax.inject.Inject;

import org.apache.james.core.Domain;
import org.apache.james.domainlist.api.DomainList;
import org.apache.james.smtpserver.AuthRequiredToRelayRcptHook;

import dev.jamesatrn.config.AtrnConfiguration;

/**
 * James's own relay decision ({@code AuthRequiredToRelayRcptHook}: an unauthenticated client
 * may only send to our domains), with ATRN domains counted as ours. It answers DECLINED for them,
 * as for a local domain, so the rest of the RCPT chain still runs.
 */
public class AtrnRelayRcptHook extends AuthRequiredToRelayRcptHook {
    private final AtrnConfiguration configuration;

    @Inject
    public AtrnRelayRcptHook(DomainList domains, AtrnConfiguration configuration) {
        super(domains);
        this.configuration = configuration;
    }

    @Override
    protected boolean isLocalDomain(Domain domain) {
        return configuration.isAtrnDomain(domain) || super.isLocalDomain(domain);
    }
}
