package dev.jamesatrn.testing.james;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Properties;

import javax.inject.Inject;

import org.apache.james.core.Domain;
import org.apache.james.core.Username;
import org.apache.james.domainlist.api.DomainList;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.mailbox.MailboxManager;
import org.apache.james.mailbox.MailboxSession;
import org.apache.james.mailbox.model.MailboxPath;
import org.apache.james.user.api.UsersRepository;
import org.apache.james.utils.UserDefinedStartable;

import reactor.core.publisher.Mono;

/**
 * Loaded into a separate James process (from a jar in its extensions-jars/, listed as
 * {@code guice.extension.startable} in extensions.properties; see {@link CustomerConf}): creates
 * the users of conf/{@value #FILE} (address=password), their domains and their INBOX while James
 * starts. James reports itself started only after its start-up operations, this one included, and
 * the ODMR customer's first scheduled poll waits for that: the mailboxes exist before any pulled
 * message arrives. Created through WebAdmin after start they could lose that race, and the pulled
 * mail would be refused as "user unknown". The memory James keeps no user across restarts, hence
 * at every start.
 */
public class LocalMailboxes implements UserDefinedStartable {
    public static final String FILE = "local-mailboxes.properties";

    private final FileSystem fileSystem;
    private final DomainList domains;
    private final UsersRepository users;
    private final MailboxManager mailboxes;

    @Inject
    public LocalMailboxes(FileSystem fileSystem, DomainList domains, UsersRepository users, MailboxManager mailboxes) {
        this.fileSystem = fileSystem;
        this.domains = domains;
        this.users = users;
        this.mailboxes = mailboxes;
    }

    @Override
    public void start() {
        try {
            create();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create the local users of conf/" + FILE, e);
        }
    }

    private void create() throws Exception {
        Properties wanted = new Properties();
        try (Reader reader = Files.newBufferedReader(fileSystem.getFile("file://conf/" + FILE).toPath(), StandardCharsets.UTF_8)) {
            wanted.load(reader);
        }
        for (String address : wanted.stringPropertyNames()) {
            Username user = Username.of(address);
            Domain domain = user.getDomainPart().orElseThrow(() -> new IllegalArgumentException(
                "conf/" + FILE + ": '" + address + "' has no domain"));
            if (!domains.containsDomain(domain)) {
                domains.addDomain(domain);
            }
            if (!users.contains(user)) {
                users.addUser(user, wanted.getProperty(address));
            }
            MailboxSession session = mailboxes.createSystemSession(user);
            MailboxPath inbox = MailboxPath.inbox(session);
            if (!Boolean.TRUE.equals(Mono.from(mailboxes.mailboxExists(inbox, session)).block())) {
                mailboxes.createMailbox(inbox, session);
            }
            mailboxes.endProcessingRequest(session);
        }
    }
}
