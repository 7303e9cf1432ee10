package dev.jamesatrn.cassandra;

import org.apache.james.blob.api.BlobStore;
import org.apache.james.blob.api.HashBlobId;
import org.apache.james.blob.memory.MemoryBlobStoreFactory;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import com.datastax.oss.driver.api.core.CqlSession;

import dev.jamesatrn.store.ParkedMailStoreContract;

/**
 * {@code cassandra://}, James's {@code CassandraMailRepository} as the distributed app wires it
 * (message bytes in the blob store, S3 there, memory here). Every test parks under domains of its
 * own, so the shared keyspace needs no truncation.
 */
class ParkedMailStoreOnCassandraTest extends ParkedMailStoreContract {
    private static CqlSession session;
    private static BlobStore blobs;

    @BeforeAll
    static void connect() {
        session = EmbeddedCassandra.get().session();
        CassandraMailRepositories.createSchema(session);
        blobs = MemoryBlobStoreFactory.builder().blobIdFactory(new HashBlobId.Factory()).defaultBucketName().passthrough();
    }

    @AfterAll
    static void disconnect() {
        if (session != null) {
            session.close();
        }
    }

    @Override
    protected String repositoryUrlPrefix() {
        return "cassandra://var/mail/atrn/";
    }

    @Override
    protected MailRepositoryStore repositories() {
        return new CassandraMailRepositories(session, blobs);
    }
}
