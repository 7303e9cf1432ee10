package dev.jamesatrn.store;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

import org.apache.commons.configuration2.XMLConfiguration;
import org.apache.commons.configuration2.io.FileHandler;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryLoader;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.memory.MailRepositoryStoreConfiguration;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryUrlStore;

import com.google.inject.Guice;
import com.google.inject.Injector;

/**
 * The memory app's repository store as {@code config-samples/mailrepositorystore.xml} declares it
 * ({@code file://}, {@code parkedfile://}, {@code memory://}, each with the sample's settings), with
 * James's own {@link MemoryMailRepositoryStore}; repository classes are built by Guice, as James's
 * loader builds them, over a {@link FileSystem} rooted in a test folder.
 */
final class SampleMailRepositories {
    static final Path SAMPLE = Path.of("../config-samples/mailrepositorystore.xml");

    private SampleMailRepositories() {
    }

    static MailRepositoryStore under(Path base) throws Exception {
        XMLConfiguration sample = new XMLConfiguration();
        new FileHandler(sample).load(SAMPLE.toFile());
        Injector injector = Guice.createInjector(binder -> binder.bind(FileSystem.class).toInstance(fileSystem(base)));
        MailRepositoryLoader loader = (className, url) -> {
            try {
                return injector.getInstance(Class.forName(className).asSubclass(MailRepository.class));
            } catch (ClassNotFoundException e) {
                throw new MailRepositoryStore.UnsupportedRepositoryStoreException(className + " not found");
            }
        };
        MemoryMailRepositoryStore store = new MemoryMailRepositoryStore(new MemoryMailRepositoryUrlStore(), loader,
            MailRepositoryStoreConfiguration.parse(sample));
        store.init();
        return store;
    }

    /** James's file:// URLs, relative to the working directory, resolved under {@code base}. */
    private static FileSystem fileSystem(Path base) {
        return new FileSystem() {
            @Override
            public InputStream getResource(String url) throws IOException {
                return new FileInputStream(getFile(url));
            }

            @Override
            public File getFile(String url) {
                return base.resolve(url.substring(FileSystem.FILE_PROTOCOL.length())).toFile();
            }

            @Override
            public File getBasedir() {
                return base.toFile();
            }
        };
    }
}
