package dev.jamesatrn.mailets;

import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.inject.Inject;
import javax.mail.MessagingException;

import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.file.FileMailRepository;
import org.apache.james.mailrepository.file.MimeMessageStreamRepositorySource;
import org.apache.james.repository.file.FilePersistentObjectRepository;
import org.apache.james.repository.file.FilePersistentStreamRepository;
import org.apache.james.server.core.MailImpl;
import org.apache.james.server.core.MimeMessageWrapper;
import org.apache.mailet.Mail;

import com.google.common.collect.Iterators;

/**
 * James's {@link FileMailRepository}, same files on disk, with a cheaper and safer
 * {@link #retrieve}. Declared in {@code mailrepositorystore.xml} under its own protocol
 * ({@code parkedfile://}, config-samples), whose URLs name the same directories as {@code file://}.
 *
 * <p>Why it exists (written by hand, measured in BENCHMARKS.md): in James 3.8.1,
 * {@code FileMailRepository.retrieve} hands the stored message to {@code MailImpl.setMessage},
 * which copies it into a new buffer, parsing its headers on the way from an unbuffered
 * {@code FileInputStream}, one read system call per header byte, and a 5 MB message is copied
 * to a temporary file. The drain only streams the stored bytes (and the expiry sweep and WebAdmin
 * read a few of them), so this repository gives the Mail a message that reads the stored file
 * lazily, through a buffer. Storing, locking and removal are James's own.
 *
 * <p>It also never deletes a message it cannot read: James's retrieve removes a message whose
 * envelope file fails to deserialise; here the failure is reported and the files stay for the
 * operator.
 *
 * <p>And it does not list a message while it is being stored: James 3.8.1 adds the key to its
 * listing before it writes the files, so a drain (or anything else listing the domain) could read
 * a half-written envelope, fail, and count the message as deferred. Only stores made through this
 * JVM are seen: that is every store of the memory app, whose spooler parks the mail.
 */
public class ParkedFileMailRepository extends FileMailRepository {
    public static final String PROTOCOL = "parkedfile";
    private static final int READ_BUFFER = 16 * 1024;

    private final Set<String> beingStored = ConcurrentHashMap.newKeySet();
    private FileSystem fileSystem;
    private String destination;
    private BufferedObjects objects;
    private BufferedStreams streams;

    @Override
    @Inject
    public void setFileSystem(FileSystem fileSystem) {
        super.setFileSystem(fileSystem);
        this.fileSystem = fileSystem;
    }

    /** {@code parkedfile://x} is stored where {@code file://x} would be. */
    @Override
    public void configure(HierarchicalConfiguration<ImmutableNode> config) {
        String url = config.getString("[@destinationURL]");
        String prefix = PROTOCOL + "://";
        if (url != null && url.startsWith(prefix)) {
            config.setProperty("[@destinationURL]", FileSystem.FILE_PROTOCOL + url.substring(prefix.length()));
        }
        destination = config.getString("[@destinationURL]");
        super.configure(config);
    }

    @Override
    public void init() throws Exception {
        super.init();
        BaseHierarchicalConfiguration files = new BaseHierarchicalConfiguration();
        files.addProperty("[@destinationURL]", destination);
        objects = new BufferedObjects();
        objects.setFileSystem(fileSystem);
        objects.configure(files);
        objects.init();
        streams = new BufferedStreams();
        streams.setFileSystem(fileSystem);
        streams.configure(files);
        streams.init();
    }

    @Override
    public MailKey store(Mail mail) throws MessagingException {
        String key = mail.getName();
        beingStored.add(key);
        try {
            return super.store(mail);
        } finally {
            beingStored.remove(key);
        }
    }

    /** Also what size() counts (FileMailRepository counts this listing). */
    @Override
    public Iterator<MailKey> list() {
        return Iterators.filter(super.list(), key -> !beingStored.contains(key.asString()));
    }

    /**
     * The message file is checked here, not only when its bytes are first read: a message whose
     * envelope is readable but whose content is not must fail now, so that a drain skips it (it
     * stays parked for the operator) instead of failing in the middle of DATA every time.
     */
    @Override
    public Mail retrieve(MailKey key) throws MessagingException {
        Object stored;
        try {
            stored = objects.get(key.asString());
        } catch (RuntimeException e) {
            if (causedByMissingFile(e) && !objects.exists(key.asString())) {
                return null; // removed meanwhile
            }
            throw unreadable(key, e);
        }
        if (!streams.readable(key.asString())) {
            throw unreadable(key, new IOException("its message file is missing or not readable"));
        }
        if (!(stored instanceof MailImpl)) {
            // not written by James's MailImpl: let James's own code handle it
            return super.retrieve(key);
        }
        MailImpl mail = (MailImpl) stored;
        mail.setMessageNoCopy(new MimeMessageWrapper(new MimeMessageStreamRepositorySource(streams, destination, key.asString())));
        return mail;
    }

    private MessagingException unreadable(MailKey key, Exception cause) {
        return new MessagingException("Parked message " + key.asString() + " in " + destination
            + " cannot be read; its files are kept: " + cause.getMessage(), cause);
    }

    private static boolean causedByMissingFile(Throwable e) {
        return Optional.ofNullable(e.getCause()).filter(FileNotFoundException.class::isInstance).isPresent();
    }

    /** James's envelope files, read through a buffer (ObjectInputStream peeks byte by byte). */
    private static final class BufferedObjects extends FilePersistentObjectRepository {
        @Override
        protected InputStream getInputStream(String key) throws IOException {
            return new BufferedInputStream(super.getInputStream(key), READ_BUFFER);
        }

        boolean exists(String key) {
            try {
                return Files.exists(getFile(key).toPath());
            } catch (IOException e) {
                return true;
            }
        }
    }

    /** James's message files, read through a buffer (javax.mail reads headers byte by byte). */
    private static final class BufferedStreams extends FilePersistentStreamRepository {
        @Override
        protected InputStream getInputStream(String key) throws IOException {
            return new BufferedInputStream(super.getInputStream(key), READ_BUFFER);
        }

        boolean readable(String key) {
            try {
                return Files.isReadable(getFile(key).toPath());
            } catch (IOException e) {
                return false;
            }
        }
    }
}
