package dev.jamesatrn.cassandra;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.apache.james.backends.cassandra.init.CassandraTableManager;
import org.apache.james.backends.cassandra.init.CassandraTypesCreator;
import org.apache.james.backends.cassandra.init.CassandraTypesProvider;
import org.apache.james.backends.cassandra.init.configuration.CassandraConfiguration;
import org.apache.james.blob.api.BlobId;
import org.apache.james.blob.api.BlobStore;
import org.apache.james.blob.api.HashBlobId;
import org.apache.james.blob.mail.MimeMessageStore;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryPath;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.api.Protocol;
import org.apache.james.mailrepository.cassandra.CassandraMailRepositoryFactory;
import org.apache.james.mailrepository.cassandra.CassandraMailRepositoryModule;

import com.datastax.oss.driver.api.core.CqlSession;
import com.google.inject.Guice;

/**
 * One James node's view of {@code cassandra://} mail repositories: James's own
 * {@code CassandraMailRepository}, as the distributed app wires it, over this node's session.
 * Every node built over the same keyspace and the same blob store (S3 in the distributed app)
 * sees the same parked mail.
 */
final class CassandraMailRepositories implements MailRepositoryStore {
    private static final Protocol CASSANDRA = new Protocol("cassandra");

    private final CassandraMailRepositoryFactory factory;
    private final Map<MailRepositoryUrl, MailRepository> opened = new ConcurrentHashMap<>();

    CassandraMailRepositories(CqlSession session, BlobStore sharedBlobs) {
        // Guice, as in James: the repository DAOs have package-private @Inject constructors.
        this.factory = Guice.createInjector(binder -> {
            binder.bind(CqlSession.class).toInstance(session);
            binder.bind(CassandraConfiguration.class).toInstance(CassandraConfiguration.DEFAULT_CONFIGURATION);
            binder.bind(BlobId.Factory.class).toInstance(new HashBlobId.Factory());
            binder.bind(MimeMessageStore.Factory.class).toInstance(MimeMessageStore.factory(sharedBlobs));
        }).getInstance(CassandraMailRepositoryFactory.class);
    }

    /** James's mail repository tables, as the distributed app creates them at start. */
    static void createSchema(CqlSession session) {
        new CassandraTypesCreator(CassandraMailRepositoryModule.MODULE, session).initializeTypes();
        new CassandraTableManager(CassandraMailRepositoryModule.MODULE, session)
            .initializeTables(new CassandraTypesProvider(session));
    }

    @Override
    public MailRepository select(MailRepositoryUrl url) throws MailRepositoryStoreException {
        if (!url.getProtocol().equals(CASSANDRA)) {
            throw new UnsupportedRepositoryStoreException("only cassandra:// here, not " + url.asString());
        }
        return opened.computeIfAbsent(url, factory::create);
    }

    @Override
    public Optional<Protocol> defaultProtocol() {
        return Optional.of(CASSANDRA);
    }

    @Override
    public Optional<MailRepository> get(MailRepositoryUrl url) {
        return Optional.ofNullable(opened.get(url));
    }

    @Override
    public Stream<MailRepository> getByPath(MailRepositoryPath path) {
        return opened.entrySet().stream().filter(entry -> entry.getKey().getPath().equals(path)).map(Map.Entry::getValue);
    }

    @Override
    public Stream<MailRepositoryUrl> getUrls() {
        return opened.keySet().stream();
    }
}
