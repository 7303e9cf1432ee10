package dev.jamesatrn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import javax.mail.MessagingException;

import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.mailet.Mail;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.jamesatrn.config.AtrnConfiguration;

/** {@code file://}, James's own {@code FileMailRepository}: atrn.xml's default prefix. */
class ParkedMailStoreOnFileTest extends ParkedMailStoreContract {
    @TempDir
    Path base;

    @Override
    protected String repositoryUrlPrefix() {
        return AtrnConfiguration.DEFAULT_REPOSITORY_PREFIX;
    }

    @Override
    protected MailRepositoryStore repositories() throws Exception {
        return SampleMailRepositories.under(base);
    }

    /**
     * James 3.8.1 adds the key to its listing before it writes the message's files
     * ({@code FileMailRepository.internalStore}): the reason parkedfile:// exists.
     */
    @Override
    protected boolean hidesMessagesBeingStored() {
        return false;
    }

    /**
     * What a drain meets there: the listed message cannot be read yet (James's retrieve finds no
     * envelope, tries to delete the key and cannot lock it), so the drain counts it deferred, and
     * the store finishes unharmed.
     */
    @Test
    void aDrainRetrievingAMessageStillBeingStoredCannotReadIt() throws Exception {
        byte[] raw = message("stored slowly");
        SlowPark slow = parkSlowly(customer, raw);
        try {
            slow.awaitTheBackendReadingIt();

            assertThatThrownBy(() -> store.retrieve(customer, slow.key)).isInstanceOf(MessagingException.class);
        } finally {
            slow.letItFinish();
        }

        assertThat(slow.stored.get(30, TimeUnit.SECONDS)).isEqualTo(slow.key);
        assertThat(store.keys(customer)).containsExactly(slow.key);
        Mail mail = store.retrieve(customer, slow.key).orElseThrow();
        try {
            assertThat(sentBytes(mail)).isEqualTo(raw);
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }
}
