package dev.jamesatrn.drain;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

import javax.inject.Inject;
import javax.inject.Provider;
import javax.inject.Singleton;

import org.apache.james.protocols.lib.netty.AbstractConfigurableAsyncServer;
import org.apache.james.smtpserver.netty.SMTPServerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.collect.ImmutableSet;

import dev.jamesatrn.config.AtrnConfiguration;

/**
 * The names a peer would use for this server in its greeting or EHLO reply: the
 * {@code <helloName>} of every server of smtpserver.xml (as James resolved it, autodetect
 * included) and the {@code ownHostNames} of atrn.xml (other nodes of a cluster). A peer that
 * answers with one of them is this server, whatever its address: Postfix's "mail for X loops
 * back to myself" check, which holds behind NAT, a load balancer or a container's address.
 */
@Singleton
public class OwnHostNames {
    private static final Logger LOGGER = LoggerFactory.getLogger(OwnHostNames.class);

    private final Set<String> configured;
    // James creates its SMTP servers (and through them our handlers) after this injector: read lazily.
    private final Provider<SMTPServerFactory> smtpServers;

    @Inject
    public OwnHostNames(AtrnConfiguration configuration, Provider<SMTPServerFactory> smtpServers) {
        this.configured = configuration.etrnPolicies().ownHostNames();
        this.smtpServers = smtpServers;
    }

    /** Every name of this server, lower case, {@code helloName} (the one we say EHLO with) included. */
    public Set<String> including(String helloName) {
        Set<String> names = new LinkedHashSet<>(configured);
        names.add(normalize(helloName));
        try {
            for (AbstractConfigurableAsyncServer server : smtpServers.get().getServers()) {
                if (server.getHelloName() != null) {
                    names.add(normalize(server.getHelloName()));
                }
            }
        } catch (RuntimeException e) {
            LOGGER.warn("Cannot read the hello names of James's SMTP servers; loops are detected by {} only: {}", names,
                e.getMessage());
        }
        return ImmutableSet.copyOf(names);
    }

    static String normalize(String name) {
        String lower = name.trim().toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }
}
