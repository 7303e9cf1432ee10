package dev.jamesatrn.testing.james;

import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import javax.inject.Inject;
import javax.inject.Singleton;
import javax.mail.MessagingException;

import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryPath;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.api.Protocol;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.mailet.Mail;

import dev.jamesatrn.store.ParkedNames;

/**
 * James's own repository store with three switches: while {@link #FAILING} is set, reading the
 * repository of {@link #FAILING_URL} fails as an unreachable disk or database would; while
 * {@link #FAILING_REMOVE} is set, only removing from it fails; while {@link #FAILING_FLAG_UPDATE}
 * is set, only storing a copy marked as warned of its delay (ParkedNames flag {@code w}) fails.
 */
@Singleton
public class FlakyMailRepositoryStore implements MailRepositoryStore {
    public static final AtomicBoolean FAILING = new AtomicBoolean();
    public static final AtomicBoolean FAILING_REMOVE = new AtomicBoolean();
    public static final AtomicBoolean FAILING_FLAG_UPDATE = new AtomicBoolean();
    public static final String FAILING_URL = "parkedfile://var/mail/atrn/other.example";

    private final MemoryMailRepositoryStore delegate;

    @Inject
    public FlakyMailRepositoryStore(MemoryMailRepositoryStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public MailRepository select(MailRepositoryUrl url) throws MailRepositoryStoreException {
        MailRepository repository = delegate.select(url);
        return url.asString().equals(FAILING_URL) ? new Flaky(repository) : repository;
    }

    @Override
    public Optional<Protocol> defaultProtocol() {
        return delegate.defaultProtocol();
    }

    @Override
    public Optional<MailRepository> get(MailRepositoryUrl url) throws MailRepositoryStoreException {
        return delegate.get(url);
    }

    @Override
    public Stream<MailRepository> getByPath(MailRepositoryPath path) throws MailRepositoryStoreException {
        return delegate.getByPath(path);
    }

    @Override
    public Stream<MailRepositoryUrl> getUrls() {
        return delegate.getUrls();
    }

    private record Flaky(MailRepository repository) implements MailRepository {
        private void check() throws MessagingException {
            if (FAILING.get()) {
                throw new MessagingException("simulated storage failure");
            }
        }

        @Override
        public long size() throws MessagingException {
            check();
            return repository.size();
        }

        @Override
        public MailKey store(Mail mail) throws MessagingException {
            check();
            if (FAILING_FLAG_UPDATE.get() && ParkedNames.warned(mail.getName())) {
                throw new MessagingException("simulated failure to store a copy marked warned");
            }
            return repository.store(mail);
        }

        @Override
        public Iterator<MailKey> list() throws MessagingException {
            check();
            return repository.list();
        }

        @Override
        public Mail retrieve(MailKey key) throws MessagingException {
            check();
            return repository.retrieve(key);
        }

        @Override
        public void remove(MailKey key) throws MessagingException {
            check();
            if (FAILING_REMOVE.get()) {
                throw new MessagingException("simulated failure to remove");
            }
            repository.remove(key);
        }

        @Override
        public void removeAll() throws MessagingException {
            repository.removeAll();
        }
    }
}
