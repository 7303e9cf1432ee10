package dev.jamesatrn.testing.james;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import javax.inject.Inject;

import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.utils.GuiceProbe;
import org.apache.mailet.Mail;

/** Looks into the parked-mail repositories the way the extension lays them out. */
public class ParkedProbe implements GuiceProbe {
    public static final String PREFIX = "parkedfile://var/mail/atrn/";

    public record Parked(String sender, List<String> recipients, byte[] bytes) {
    }

    private final MailRepositoryStore store;

    @Inject
    public ParkedProbe(MailRepositoryStore store) {
        this.store = store;
    }

    private MailRepository repository(String domain) throws Exception {
        return store.select(MailRepositoryUrl.from(PREFIX + domain));
    }

    public long count(String domain) throws Exception {
        return repository(domain).size();
    }

    public List<Parked> all(String domain) throws Exception {
        MailRepository repository = repository(domain);
        List<Parked> result = new ArrayList<>();
        List<MailKey> keys = new ArrayList<>();
        repository.list().forEachRemaining(keys::add);
        for (MailKey key : keys) {
            Mail mail = repository.retrieve(key);
            if (mail == null) {
                continue; // removed since it was listed (delivered, expired, or replaced under a new key)
            }
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                mail.getMessage().writeTo(bytes);
                result.add(new Parked(mail.getMaybeSender().asString(),
                    mail.getRecipients().stream().map(Object::toString).sorted().toList(), bytes.toByteArray()));
            } finally {
                LifecycleUtil.dispose(mail);
            }
        }
        return result;
    }

    /** The parked keys, in the repository's order. */
    public List<String> keys(String domain) throws Exception {
        List<String> keys = new ArrayList<>();
        repository(domain).list().forEachRemaining(key -> keys.add(key.asString()));
        return keys;
    }

    /** How many messages any James mail repository holds, e.g. {@code file://var/mail/relay-limit/}. */
    public long countAt(String url) throws Exception {
        return store.select(MailRepositoryUrl.from(url)).size();
    }

    /** Empties each domain's repository (a test's @AfterEach). */
    public void clear(String... domains) throws Exception {
        for (String domain : domains) {
            repository(domain).removeAll();
        }
    }
}
