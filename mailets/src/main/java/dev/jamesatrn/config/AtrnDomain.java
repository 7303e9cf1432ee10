package dev.jamesatrn.config;

import java.util.Optional;
import java.util.Set;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;

import com.google.common.base.MoreObjects;
import com.google.common.net.HostAndPort;

/**
 * One ATRN domain. {@code etrnRelay}: where an ETRN (RFC 1985) for it delivers; empty means
 * the domain's MX hosts.
 */
public final class AtrnDomain {
    private final Domain domain;
    private final Set<String> logins;
    private final Optional<Set<MailAddress>> recipients;
    private final Optional<HostAndPort> etrnRelay;

    public AtrnDomain(Domain domain, Set<String> logins, Optional<Set<MailAddress>> recipients,
                      Optional<HostAndPort> etrnRelay) {
        this.domain = domain;
        this.logins = logins;
        this.recipients = recipients;
        this.etrnRelay = etrnRelay;
    }

    public Domain domain() {
        return domain;
    }

    public Set<String> logins() {
        return logins;
    }

    public Optional<Set<MailAddress>> recipients() {
        return recipients;
    }

    public Optional<HostAndPort> etrnRelay() {
        return etrnRelay;
    }

    public boolean accepts(MailAddress recipient) {
        return recipients.map(valid -> valid.contains(recipient)).orElse(true);
    }

    @Override
    public String toString() {
        return MoreObjects.toStringHelper(this)
            .add("domain", domain)
            .add("logins", logins)
            .add("recipients", recipients)
            .add("etrnRelay", etrnRelay)
            .toString();
    }
}
