package dev.jamesatrn.store;

import java.nio.file.Path;

import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.junit.jupiter.api.io.TempDir;
import dev.jamesatrn.mailets.ParkedFileMailRepository;

/** {@code parkedfile://} ({@link ParkedFileMailRepository}), the sample's prefix for parked mail. */
class ParkedMailStoreOnParkedFileTest extends ParkedMailStoreContract {
    @TempDir
    Path base;

    @Override
    protected String repositoryUrlPrefix() {
        return "parkedfile://var/mail/atrn/";
    }

    @Override
    protected MailRepositoryStore repositories() throws Exception {
        return SampleMailRepositories.under(base);
    }
}
