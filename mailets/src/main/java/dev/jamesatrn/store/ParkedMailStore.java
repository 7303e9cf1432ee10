package dev.jamesatrn.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import javax.inject.Inject;
import javax.inject.Singleton;
import javax.mail.MessagingException;

import org.apache.commons.configuration2.ex.ConfigurationException;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Mail;
import dev.jamesatrn.config.AtrnConfiguration;

/**
 * Parked mail, one James mail repository per ATRN domain under the configured URL prefix.
 * James's repositories do the storing; this class only knows which repository holds which
 * domain. Every call does storage I/O: never call it on a Netty event loop.
 */
@Singleton
public class ParkedMailStore {
    private static final Comparator<MailKey> DELIVERY_ORDER = Comparator
        .comparing((MailKey key) -> !key.asString().startsWith(ParkedNames.PREFIX))
        .thenComparing(MailKey::asString);

    private final MailRepositoryStore repositories;
    private final AtrnConfiguration configuration;

    @Inject
    public ParkedMailStore(MailRepositoryStore repositories, AtrnConfiguration configuration) throws ConfigurationException {
        this.repositories = repositories;
        this.configuration = configuration;
        // Opened at start: a repository URL James cannot serve stops James now rather than at the
        // first message, and WebAdmin's /mailRepositories lists parked mail again after a restart.
        for (Domain domain : configuration.domains()) {
            try {
                repositories.select(configuration.repositoryUrl(domain));
            } catch (MailRepositoryStore.MailRepositoryStoreException | RuntimeException e) {
                // No cause attached on purpose: James logs the root cause of a failed start, and
                // this message is the one that names the file, the key and the fix.
                throw new ConfigurationException(cannotOpen(domain, e));
            }
        }
    }

    public MailKey park(Domain domain, Mail mail) throws MessagingException {
        return repository(domain).store(mail);
    }

    /**
     * The name a copy of {@code received} is parked under ({@link ParkedNames}): its place in the
     * delivery order, now as its parking time, and its size.
     */
    public static String nameForParking(Mail received, long size) {
        return ParkedNames.newName(ReceiptOrder.of(received), Instant.now(), false, size);
    }

    /** When the message was parked, from its key alone; empty for a name this extension did not give. */
    public static Optional<Instant> parkedAt(MailKey key) {
        return ParkedNames.parkedAt(key.asString());
    }

    /** Its size in bytes, from its key alone; empty for older names and names not ours. */
    public static OptionalLong recordedSize(MailKey key) {
        return ParkedNames.size(key.asString());
    }

    /** Whether its sender was warned of the delay ({@link #markWarned}), from its key alone. */
    public static boolean warned(MailKey key) {
        return ParkedNames.warned(key.asString());
    }

    /**
     * The domain's parked keys in delivery order, oldest first ({@link ParkedNames}), whatever
     * order the repository lists them in (James's memory repository: none; its file
     * repository: only with FIFO="true"), then names not given by this extension.
     */
    public List<MailKey> keys(Domain domain) throws MessagingException {
        List<MailKey> keys = new ArrayList<>();
        Iterator<MailKey> iterator = repository(domain).list();
        iterator.forEachRemaining(keys::add);
        keys.sort(DELIVERY_ORDER);
        return keys;
    }

    public long count(Domain domain) throws MessagingException {
        return repository(domain).size();
    }

    /** Empty when another actor removed the message since it was listed. */
    public Optional<Mail> retrieve(Domain domain, MailKey key) throws MessagingException {
        return Optional.ofNullable(repository(domain).retrieve(key));
    }

    /**
     * The new copy of {@link #replace} was stored but neither the old copy nor the new one could
     * be removed: both are parked now.
     */
    public static final class PartlyReplaced extends MessagingException {
        private static final long serialVersionUID = 1L;

        PartlyReplaced(MailKey old, MailKey replacement, Exception cause) {
            super("stored " + replacement.asString() + " to replace " + old.asString() + ", but " + old.asString()
                + " could not be removed: " + cause.getMessage(), cause);
        }
    }


    /**
     * Replaces a parked message with one for only {@code recipients} (those still owed after a drain), keeping
     * whatever else the old name records, such as its delay warning.
     */
    public MailKey replaceRecipients(Domain domain, MailKey old, Mail mail, Collection<MailAddress> recipients)
            throws MessagingException {
        return replace(domain, old, mail, recipients, warned(old));
    }

    /** Replaces a parked message with a copy whose name records the delay warning sent for it. */
    public MailKey markWarned(Domain domain, MailKey old, Mail mail) throws MessagingException {
        return replace(domain, old, mail, mail.getRecipients(), true);
    }

    /**
     * Replaces a parked message (e.g. with only the recipients still owed): the new copy is
     * stored under a new name first, then the old key is removed, so a crash in between leaves
     * two copies rather than a half-written one. When the old key cannot be removed, the new
     * copy is removed again and the old one stays as it was; only when that fails too are both
     * left ({@link PartlyReplaced}). The name keeps the message's place in the delivery order,
     * its parking time and its size (only recipients change here); an older name without a size
     * gets one now.
     */
    private MailKey replace(Domain domain, MailKey old, Mail mail, Collection<MailAddress> recipients, boolean warned)
            throws MessagingException {
        MailImpl copy = MailImpl.duplicate(mail);
        try {
            copy.setRecipients(recipients);
            OptionalLong known = ParkedNames.size(old.asString());
            long size = known.isPresent() ? known.getAsLong() : copy.getMessageSize();
            copy.setName(ParkedNames.renamed(old.asString(), warned, size));
            MailRepository repository = repository(domain);
            MailKey key = repository.store(copy);
            try {
                repository.remove(old);
            } catch (MessagingException | RuntimeException e) {
                try {
                    repository.remove(key);
                } catch (MessagingException | RuntimeException undo) {
                    e.addSuppressed(undo);
                    throw new PartlyReplaced(old, key, e);
                }
                throw e;
            }
            return key;
        } finally {
            LifecycleUtil.dispose(copy);
        }
    }

    public void remove(Domain domain, MailKey key) throws MessagingException {
        repository(domain).remove(key);
    }

    private MailRepository repository(Domain domain) throws MessagingException {
        try {
            return repositories.select(configuration.repositoryUrl(domain));
        } catch (MailRepositoryStore.MailRepositoryStoreException e) {
            throw new MessagingException(cannotOpen(domain, e), e);
        }
    }

    private String cannotOpen(Domain domain, Exception e) {
        return "conf/" + AtrnConfiguration.FILE_NAME + ": key 'repositoryUrlPrefix': James cannot open "
            + configuration.repositoryUrl(domain).asString() + " (" + e.getMessage() + "). Fix: use a protocol that "
            + "conf/mailrepositorystore.xml declares, for example " + AtrnConfiguration.DEFAULT_REPOSITORY_PREFIX + ".";
    }
}
