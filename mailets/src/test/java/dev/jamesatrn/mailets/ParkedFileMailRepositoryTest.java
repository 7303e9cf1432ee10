package dev.jamesatrn.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.mail.MessagingException;

import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.mailrepository.MailRepositoryContract;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryPath;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.api.Protocol;
import org.apache.james.mailrepository.file.FileMailRepository;
import org.apache.james.server.core.MailImpl;
import org.apache.james.server.core.MimeMessageInputStreamSource;
import org.apache.james.server.core.MimeMessageWrapper;
import org.apache.mailet.Mail;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** James's own MailRepository contract, plus what ParkedFileMailRepository does differently. */
class ParkedFileMailRepositoryTest implements MailRepositoryContract {
    private static final MailRepositoryPath PATH = MailRepositoryPath.from("var/mail/atrn/customer.example");

    @TempDir
    Path base;
    private FileSystem fileSystem;
    private MailRepository repository;

    @BeforeEach
    void start() throws Exception {
        fileSystem = new FileSystem() {
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
        repository = retrieveRepository(PATH);
    }

    @Override
    public MailRepository retrieveRepository() {
        return repository;
    }

    @Override
    public MailRepository retrieveRepository(MailRepositoryPath path) throws Exception {
        return open(new ParkedFileMailRepository(), MailRepositoryUrl.fromPathAndProtocol(new Protocol(ParkedFileMailRepository.PROTOCOL), path));
    }

    private MailRepository open(FileMailRepository created, MailRepositoryUrl url) throws Exception {
        created.setFileSystem(fileSystem);
        BaseHierarchicalConfiguration configuration = new BaseHierarchicalConfiguration();
        configuration.addProperty("[@destinationURL]", url.asString());
        configuration.addProperty("[@FIFO]", "true");
        configuration.addProperty("[@CACHEKEYS]", "true");
        created.configure(configuration);
        created.init();
        return created;
    }

    private MailRepository jamesFileRepository() throws Exception {
        return open(new FileMailRepository(), MailRepositoryUrl.fromPathAndProtocol(new Protocol("file"), PATH));
    }

    @Test
    void retrievedMessageReadsTheStoredFileItselfInsteadOfACopy() throws Exception {
        repository.store(createMail(MAIL_1, "the body"));

        Mail mail = repository.retrieve(MAIL_1);

        // James 3.8.1's FileMailRepository gives a copy here, whose source id is "MailCopy-<uuid>"
        MimeMessageWrapper message = (MimeMessageWrapper) mail.getMessage();
        assertThat(message.getSourceId()).isEqualTo("file://" + PATH.asString() + "/" + MAIL_1.asString());
        assertThat(message.isModified()).isFalse();
    }

    @Test
    void storedBytesComeBackExactly() throws Exception {
        byte[] raw = ("Subject: exact\r\nX-Long: " + "x".repeat(5000) + "\r\n\r\n.leading dot\r\ncaf\u00e9 \u00e9t\u00e9\r\nno final newline")
            .getBytes(StandardCharsets.UTF_8);
        MailImpl mail = createMail(MAIL_1);
        mail.setMessage(new MimeMessageWrapper(MimeMessageInputStreamSource.create("raw", new ByteArrayInputStream(raw))));
        repository.store(mail);

        MimeMessageWrapper stored = (MimeMessageWrapper) repository.retrieve(MAIL_1).getMessage();
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        try (InputStream in = stored.getMessageInputStream()) {
            in.transferTo(read);
        }

        assertThat(read.toByteArray()).isEqualTo(raw);
        assertThat(repository.retrieve(MAIL_1).getMessageSize()).isEqualTo(raw.length);
    }

    @Test
    void sameFilesAsJamesFileRepositorySoEitherProtocolReadsTheOther() throws Exception {
        MailRepository james = jamesFileRepository();
        james.store(createMail(MAIL_1, "stored by file://"));
        MailRepository parked = retrieveRepository(PATH);
        parked.store(createMail(MAIL_2, "stored by parkedfile://"));

        assertThat(parked.retrieve(MAIL_1).getMessage().getContent()).isEqualTo("stored by file://");
        assertThat(jamesFileRepository().retrieve(MAIL_2).getMessage().getContent()).isEqualTo("stored by parkedfile://");
    }

    @Test
    void unreadableEnvelopeIsReportedAndItsFilesAreKept() throws Exception {
        repository.store(createMail(MAIL_1));
        Path directory = base.resolve(PATH.asString());
        List<Path> envelopes;
        try (Stream<Path> files = Files.list(directory)) {
            envelopes = files.filter(file -> file.getFileName().toString().endsWith(".FileObjectStore")).toList();
        }
        assertThat(envelopes).hasSize(1);
        Files.write(envelopes.get(0), "not a serialised mail".getBytes(StandardCharsets.US_ASCII));

        assertThatThrownBy(() -> repository.retrieve(MAIL_1))
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("its files are kept");
        try (Stream<Path> files = Files.list(directory)) {
            assertThat(files.count()).isEqualTo(2);
        }
        assertThat(repository.list()).toIterable().containsExactly(MAIL_1);
    }

    /** Else it would fail only mid-DATA, in every drain, holding the rest of the domain back. */
    @Test
    void missingMessageFileIsReportedAtRetrieve() throws Exception {
        repository.store(createMail(MAIL_1));
        try (Stream<Path> files = Files.list(base.resolve(PATH.asString()))) {
            for (Path content : files.filter(file -> file.getFileName().toString().endsWith(".FileStreamStore")).toList()) {
                Files.delete(content);
            }
        }

        assertThatThrownBy(() -> repository.retrieve(MAIL_1))
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("message file is missing");
        assertThat(repository.list()).toIterable().containsExactly(MAIL_1);
    }

    /** James lists the key before the files are written: a drain must not see it half-stored. */
    @Test
    void aMessageIsListedOnlyOnceItsFilesAreWritten() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        MailImpl mail = createMail(MAIL_1);
        byte[] raw = "Subject: slow\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        // no copy: the repository must write this very message, and wait in its writeTo
        mail.setMessageNoCopy(new MimeMessageWrapper(MimeMessageInputStreamSource.create("raw", new ByteArrayInputStream(raw))) {
            @Override
            public void writeTo(OutputStream headers, OutputStream body, String[] ignore, boolean preload)
                    throws IOException, MessagingException {
                writing.countDown();
                try {
                    finish.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.writeTo(headers, body, ignore, preload);
            }
        });
        CompletableFuture<MailKey> stored = CompletableFuture.supplyAsync(() -> {
            try {
                return repository.store(mail);
            } catch (MessagingException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            writing.await();
            assertThat(repository.list()).toIterable().isEmpty();
            assertThat(repository.size()).isZero();
        } finally {
            finish.countDown();
        }

        assertThat(stored.get(30, TimeUnit.SECONDS)).isEqualTo(MAIL_1);
        assertThat(repository.list()).toIterable().containsExactly(MAIL_1);
        assertThat(repository.retrieve(MAIL_1)).isNotNull();
    }

    @Test
    void messageRemovedMeanwhileIsNull() throws Exception {
        repository.store(createMail(MAIL_1));
        jamesFileRepository().remove(MAIL_1);

        assertThat(repository.retrieve(new MailKey(MAIL_1.asString()))).isNull();
    }
}
