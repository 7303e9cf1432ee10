package dev.jamesatrn.store;

import java.nio.file.Path;

import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.junit.jupiter.api.io.TempDir;

/** {@code memory://}, James's {@code MemoryMailRepository}: the memory app's default, lost at restart. */
class ParkedMailStoreOnMemoryTest extends ParkedMailStoreContract {
    @TempDir
    Path base;

    @Override
    protected String repositoryUrlPrefix() {
        return "memory://var/mail/atrn/";
    }

    @Override
    protected MailRepositoryStore repositories() throws Exception {
        return SampleMailRepositories.under(base);
    }
}
