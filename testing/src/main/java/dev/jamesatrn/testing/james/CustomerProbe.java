package dev.jamesatrn.testing.james;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import javax.inject.Inject;

import org.apache.james.core.Username;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.mailbox.MailboxManager;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.MessageManager;
import org.apache.james.mailbox.exception.MailboxException;
import org.apache.james.mailbox.exception.MailboxNotFoundException;
import org.apache.james.mailbox.model.FetchGroup;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.mailbox.model.MessageRange;
import org.apache.james.mailbox.model.MessageResult;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.lib.handler.ProtocolHandlerLoader;
import org.apache.james.server.core.configuration.ConfigurationProvider;
import org.apache.james.utils.GuiceProbe;

import dev.jamesatrn.customer.OdmrCustomerPoller;

/**
 * The customer James's side of the tests: its ODMR customer built from its own Guice bindings
 * (as the production wiring does), and what reached its local mailboxes.
 */
public class CustomerProbe implements GuiceProbe {
    private final MailboxManager mailboxes;
    private final ConfigurationProvider configurations;
    private final FileSystem fileSystem;
    private final ProtocolHandlerLoader loader;
    private final DNSService dns;
    private final MetricFactory metrics;
    private OdmrCustomerPoller poller;

    @Inject
    public CustomerProbe(MailboxManager mailboxes, ConfigurationProvider configurations, FileSystem fileSystem,
                         ProtocolHandlerLoader loader, DNSService dns, MetricFactory metrics) {
        this.mailboxes = mailboxes;
        this.configurations = configurations;
        this.fileSystem = fileSystem;
        this.loader = loader;
        this.dns = dns;
        this.metrics = metrics;
    }

    public synchronized OdmrCustomerPoller poller() throws Exception {
        if (poller == null) {
            poller = OdmrCustomerPoller.create(configurations, OdmrCustomerPoller.DEFAULT_INBOUND_SERVER, fileSystem, loader, dns,
                metrics);
        }
        return poller;
    }

    public synchronized void closePoller() {
        if (poller != null) {
            poller.close();
            poller = null;
        }
    }

    /** Full content of every message in the user's INBOX. */
    public List<byte[]> inbox(String user) throws MailboxException, IOException {
        MailboxSession session = mailboxes.createSystemSession(Username.of(user));
        List<byte[]> messages = new ArrayList<>();
        MessageManager inbox;
        try {
            inbox = mailboxes.getMailbox(MailboxPath.inbox(session), session);
        } catch (MailboxNotFoundException e) {
            return messages;
        }
        Iterator<MessageResult> results = inbox.getMessages(MessageRange.all(), FetchGroup.FULL_CONTENT, session);
        while (results.hasNext()) {
            messages.add(results.next().getFullContent().getInputStream().readAllBytes());
        }
        return messages;
    }
}
