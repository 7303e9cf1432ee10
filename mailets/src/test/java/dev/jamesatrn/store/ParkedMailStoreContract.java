package dev.jamesatrn.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.mail.MessagingException;
import javax.mail.internet.AddressException;
import javax.mail.internet.MimeMessage;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.server.core.MailImpl;
import org.apache.james.server.core.MimeMessageInputStreamSource;
import org.apache.james.server.core.MimeMessageSource;
import org.apache.james.server.core.MimeMessageWrapper;
import org.apache.james.server.core.configuration.FileConfigurationProvider;
import org.apache.mailet.Mail;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.mailets.ParkForAtrn;

/**
 * What every backend of {@link ParkedMailStore} must do for a drain to be safe: the drain lists a
 * domain's keys, retrieves each message, sends its stored bytes to the customer with its envelope,
 * then removes it (250 to end-of-data) or replaces it with the recipients still owed. Each backend
 * the samples offer has a test that extends this class: {@code parkedfile://}, {@code file://} and
 * {@code memory://} in this module, {@code cassandra://} in the cassandra module (this class ships
 * in the test-jar).
 *
 * <p>A backend that cannot keep a promise says so by overriding its opt-out method, with the
 * reason; the scenario then asserts what that backend does instead, so a change either way is
 * seen.
 *
 * <p>Each test parks under domains of its own: a backend shared by several tests (one Cassandra
 * keyspace) never shows a test another one's mail.
 */
public abstract class ParkedMailStoreContract {
    private static final Instant EIGHT_O_CLOCK = Instant.parse("2024-03-01T08:00:00Z");
    private static final String SENDER = "alice@origin.example";

    /** The {@code repositoryUrlPrefix} of atrn.xml for this backend, e.g. {@code parkedfile://var/mail/atrn/}. */
    protected abstract String repositoryUrlPrefix();

    /** James's repository store serving that prefix, wired as the app wires it. Called once per test. */
    protected abstract MailRepositoryStore repositories() throws Exception;

    /**
     * Opt-out: false for a backend that lists a message before its content is stored, so that a
     * drain, the expiry sweep or WebAdmin can meet it half-written.
     */
    protected boolean hidesMessagesBeingStored() {
        return true;
    }

    protected ParkedMailStore store;
    protected final Domain customer = freshDomain("customer");
    protected final Domain neighbour = freshDomain("neighbour");

    private static Domain freshDomain(String label) {
        return Domain.of(label + "-" + UUID.randomUUID().toString().substring(0, 8) + ".example");
    }

    @BeforeEach
    void openStore() throws Exception {
        String xml = "<atrn><repositoryUrlPrefix>" + repositoryUrlPrefix() + "</repositoryUrlPrefix>"
            + "<logins><login name=\"customer\" secret=\"s\"/><login name=\"neighbour\" secret=\"s\"/></logins>"
            + "<domains><domain name=\"" + customer.asString() + "\"><login>customer</login></domain>"
            + "<domain name=\"" + neighbour.asString() + "\"><login>neighbour</login></domain></domains></atrn>";
        AtrnConfiguration configuration = AtrnConfiguration.parse(FileConfigurationProvider.getConfig(
            new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))), "conf/atrn.xml");
        store = new ParkedMailStore(repositories(), configuration);
    }

    @Test
    void anEmptyDomainHasNoKeysAndCountsZero() throws Exception {
        assertThat(store.keys(customer)).isEmpty();
        assertThat(store.count(customer)).isZero();
    }

    /**
     * The drain sends in the order of {@link ParkedMailStore#keys}: the order James accepted the
     * mail in ({@link ReceiptOrder}), several messages in one millisecond included, whatever order
     * the spooler's threads parked them in and whatever order the backend lists them in.
     */
    @Test
    void mailIsListedInTheOrderJamesAcceptedIt() throws Exception {
        long eightOClock = EIGHT_O_CLOCK.toEpochMilli() * 1000;
        long[] accepted = {eightOClock, eightOClock + 1, eightOClock + 2, eightOClock + 3, eightOClock + 1000, eightOClock + 2000};
        int[] parkingOrder = {3, 0, 5, 1, 4, 2};
        MailKey[] keys = new MailKey[accepted.length];
        for (int i = 0; i < parkingOrder.length; i++) {
            int message = parkingOrder[i];
            keys[message] = park(customer, accepted[message], EIGHT_O_CLOCK.plusMillis(i), message("message " + message), SENDER,
                "bob@" + customer.asString());
        }

        assertThat(store.keys(customer)).containsExactly(keys);
        assertThat(store.count(customer)).isEqualTo(accepted.length);
    }

    /** Mail an operator put back by hand under a name of James's own has no place in the order: it goes last. */
    @Test
    void mailNotNamedByThisExtensionIsListedAfterParkedMail() throws Exception {
        MailKey byHand = parkNamed(customer, "Mail1709270000000-8c9e1c57-6ab5-4f4e-b1f7-2f3b0a5f8e21", message("restored"));
        MailKey parked = park(customer, EIGHT_O_CLOCK, message("parked"), SENDER, "bob@" + customer.asString());

        assertThat(store.keys(customer)).containsExactly(parked, byHand);
    }

    @Test
    void aRetrievedMessageHasTheExactStoredBytesAndItsEnvelope() throws Exception {
        byte[] raw = awkwardMessage();
        MailKey key = park(customer, EIGHT_O_CLOCK, raw, SENDER, "bob@" + customer.asString(), "carol@" + customer.asString());

        Mail mail = store.retrieve(customer, key).orElseThrow();
        try {
            assertThat(sentBytes(mail)).isEqualTo(raw);
            assertThat(mail.getMaybeSender()).isEqualTo(MaybeSender.of(address(SENDER)));
            assertThat(mail.getRecipients()).containsExactly(address("bob@" + customer.asString()), address("carol@" + customer.asString()));
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    /** A bounce parked for a customer must leave with MAIL FROM:<> again, never with a made-up sender. */
    @Test
    void aBounceComesBackWithItsNullSender() throws Exception {
        MailKey key = park(customer, EIGHT_O_CLOCK, message("a delivery status notification"), null, "bob@" + customer.asString());

        Mail mail = store.retrieve(customer, key).orElseThrow();
        try {
            assertThat(mail.getMaybeSender().isNullSender()).isTrue();
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    /** What the drain does when the customer accepted some recipients and deferred the others. */
    @Test
    void replacingACopyWithTheRecipientsStillOwedKeepsItListedOnce() throws Exception {
        byte[] raw = awkwardMessage();
        MailKey original = park(customer, EIGHT_O_CLOCK, raw, SENDER,
            "bob@" + customer.asString(), "carol@" + customer.asString(), "dave@" + customer.asString());

        MailKey replaced = replaceRecipients(original, List.of("carol@" + customer.asString()));

        assertThat(replaced).isNotEqualTo(original);
        assertThat(store.keys(customer)).containsExactly(replaced);
        assertThat(store.count(customer)).isEqualTo(1);
        assertThat(store.retrieve(customer, original)).isEmpty();
        Mail mail = store.retrieve(customer, replaced).orElseThrow();
        try {
            assertThat(mail.getRecipients()).containsExactly(address("carol@" + customer.asString()));
            assertThat(mail.getMaybeSender()).isEqualTo(MaybeSender.of(address(SENDER)));
            assertThat(sentBytes(mail)).isEqualTo(raw);
        } finally {
            LifecycleUtil.dispose(mail);
        }
        // The age and size of the message, not of the copy: expiry and WebAdmin read them from the key.
        assertThat(ParkedNames.parkedAt(replaced.asString())).contains(EIGHT_O_CLOCK);
        assertThat(ParkedNames.size(replaced.asString())).hasValue(raw.length);
        assertThat(ParkedNames.warned(replaced.asString())).isFalse();
    }

    /** A copy the customer deferred stays ahead of mail accepted after it, in the same millisecond too. */
    @Test
    void aReplacedCopyKeepsItsPlaceInTheQueue() throws Exception {
        long eightOClock = EIGHT_O_CLOCK.toEpochMilli() * 1000;
        MailKey first = park(customer, eightOClock, EIGHT_O_CLOCK, message("first"), SENDER,
            "bob@" + customer.asString(), "carol@" + customer.asString());
        MailKey second = park(customer, eightOClock + 1, EIGHT_O_CLOCK, message("second"), SENDER, "bob@" + customer.asString());
        MailKey third = park(customer, eightOClock + 2, EIGHT_O_CLOCK, message("third"), SENDER, "bob@" + customer.asString());

        MailKey firstReplaced = replaceRecipients(first, List.of("carol@" + customer.asString()));
        MailKey secondWarned = markWarned(second);

        assertThat(store.keys(customer)).containsExactly(firstReplaced, secondWarned, third);
    }

    /** The expiry sweep's replace: the sender was warned of the delay, and the key says so. */
    @Test
    void aDelayWarningIsRecordedInTheReplacedKey() throws Exception {
        MailKey original = park(customer, EIGHT_O_CLOCK, message("slow"), SENDER, "bob@" + customer.asString());

        MailKey warned = markWarned(original);

        assertThat(store.keys(customer)).containsExactly(warned);
        assertThat(ParkedNames.warned(warned.asString())).isTrue();
        assertThat(ParkedNames.parkedAt(warned.asString())).contains(EIGHT_O_CLOCK);
    }

    /** A warned message the customer then takes in part: the warning is not sent twice. */
    @Test
    void aCopyReplacedAfterItsDelayWarningKeepsTheWarning() throws Exception {
        MailKey original = park(customer, EIGHT_O_CLOCK, message("slow"), SENDER,
            "bob@" + customer.asString(), "carol@" + customer.asString());
        MailKey warned = markWarned(original);

        MailKey replaced = replaceRecipients(warned, List.of("carol@" + customer.asString()));

        assertThat(store.keys(customer)).containsExactly(replaced);
        assertThat(ParkedNames.warned(replaced.asString())).isTrue();
        assertThat(ParkedNames.parkedAt(replaced.asString())).contains(EIGHT_O_CLOCK);
        Mail mail = store.retrieve(customer, replaced).orElseThrow();
        try {
            assertThat(mail.getRecipients()).containsExactly(address("carol@" + customer.asString()));
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    @Test
    void aDeliveredMessageIsRemovedAndTheRestStays() throws Exception {
        MailKey delivered = park(customer, EIGHT_O_CLOCK, message("delivered"), SENDER, "bob@" + customer.asString());
        MailKey waiting = park(customer, EIGHT_O_CLOCK.plusSeconds(1), message("waiting"), SENDER, "bob@" + customer.asString());

        store.remove(customer, delivered);

        assertThat(store.keys(customer)).containsExactly(waiting);
        assertThat(store.count(customer)).isEqualTo(1);
        assertThat(store.retrieve(customer, delivered)).isEmpty();
        Mail mail = store.retrieve(customer, waiting).orElseThrow();
        LifecycleUtil.dispose(mail);
    }

    /** Two actors settle the same message (a drain and a WebAdmin delete, or two nodes): the second is a no-op. */
    @Test
    void removingAnAlreadyRemovedMessageChangesNothing() throws Exception {
        MailKey removed = park(customer, EIGHT_O_CLOCK, message("removed"), SENDER, "bob@" + customer.asString());
        MailKey kept = park(customer, EIGHT_O_CLOCK.plusSeconds(1), message("kept"), SENDER, "bob@" + customer.asString());
        store.remove(customer, removed);

        store.remove(customer, removed);

        assertThat(store.keys(customer)).containsExactly(kept);
        assertThat(store.count(customer)).isEqualTo(1);
        assertThat(store.retrieve(customer, removed)).isEmpty();
    }

    /**
     * A drain that lists the domain while the spooler is still writing a message must either not see
     * it or see all of it: else it reads a half-written envelope, fails, and counts it deferred.
     */
    @Test
    void aMessageBeingStoredIsNotListedHalfWritten() throws Exception {
        byte[] raw = message("stored slowly");
        SlowPark slow = parkSlowly(customer, raw);
        try {
            slow.awaitTheBackendReadingIt();

            if (hidesMessagesBeingStored()) {
                assertThat(store.keys(customer)).isEmpty();
                assertThat(store.count(customer)).isZero();
            } else {
                assertThat(store.keys(customer)).containsExactly(slow.key);
                assertThat(store.count(customer)).isEqualTo(1);
            }
        } finally {
            slow.letItFinish();
        }

        assertThat(slow.stored.get(30, TimeUnit.SECONDS)).isEqualTo(slow.key);
        assertThat(store.keys(customer)).containsExactly(slow.key);
        Mail retrieved = store.retrieve(customer, slow.key).orElseThrow();
        try {
            assertThat(sentBytes(retrieved)).isEqualTo(raw);
        } finally {
            LifecycleUtil.dispose(retrieved);
        }
    }

    @Test
    void domainsAreIsolated() throws Exception {
        MailKey forCustomer = park(customer, EIGHT_O_CLOCK, message("for the customer"), SENDER, "bob@" + customer.asString());
        MailKey forNeighbour = park(neighbour, EIGHT_O_CLOCK.plusSeconds(1), message("for the neighbour"), SENDER,
            "eve@" + neighbour.asString());

        assertThat(store.keys(customer)).containsExactly(forCustomer);
        assertThat(store.keys(neighbour)).containsExactly(forNeighbour);
        assertThat(store.count(customer)).isEqualTo(1);
        assertThat(store.retrieve(customer, forNeighbour)).isEmpty();

        // A key of another domain removes nothing here, and nothing there.
        store.remove(customer, forNeighbour);

        assertThat(store.keys(customer)).containsExactly(forCustomer);
        assertThat(store.keys(neighbour)).containsExactly(forNeighbour);
    }

    /**
     * The expiry sweep and WebAdmin read a message's age and size from its key: the listing gives
     * back the very name the message was parked under, and that name's size is the byte count the
     * drain sends.
     */
    @Test
    void theListedKeyTellsAgeAndSizeWithoutReadingTheMessage() throws Exception {
        byte[] raw = awkwardMessage();
        MailKey parked = park(customer, EIGHT_O_CLOCK, raw, SENDER, "bob@" + customer.asString());

        MailKey listed = store.keys(customer).get(0);

        assertThat(listed.asString()).isEqualTo(parked.asString());
        assertThat(ParkedNames.parkedAt(listed.asString())).contains(EIGHT_O_CLOCK);
        assertThat(ParkedNames.size(listed.asString())).hasValue(raw.length);
        Mail mail = store.retrieve(customer, listed).orElseThrow();
        try {
            assertThat((long) sentBytes(mail).length).isEqualTo(ParkedNames.size(listed.asString()).getAsLong());
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    /** Mail accepted and parked at {@code parkedAt}. */
    protected MailKey park(Domain domain, Instant parkedAt, byte[] raw, String sender, String... recipients) throws Exception {
        return park(domain, ReceiptOrder.next(), parkedAt, raw, sender, recipients);
    }

    /**
     * Parks as {@link ParkForAtrn} does: a copy named by {@link ParkedNames} with its place in the
     * delivery order ({@link ReceiptOrder}), its parking time and its size.
     */
    protected MailKey park(Domain domain, long receiptOrder, Instant parkedAt, byte[] raw, String sender, String... recipients)
            throws Exception {
        MailImpl mail = mail(null, sender, recipients);
        try {
            mail.setMessageNoCopy(new MimeMessageWrapper(MimeMessageInputStreamSource.create("raw-" + UUID.randomUUID(),
                new ByteArrayInputStream(raw))));
            mail.setName(ParkedNames.newName(receiptOrder, parkedAt, false, mail.getMessageSize()));
            return parkNamed(domain, mail);
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    private MailKey parkNamed(Domain domain, String name, byte[] raw) throws Exception {
        MailImpl mail = mail(name, SENDER, "bob@" + domain.asString());
        try {
            mail.setMessageNoCopy(new MimeMessageWrapper(MimeMessageInputStreamSource.create("raw-" + UUID.randomUUID(),
                new ByteArrayInputStream(raw))));
            return parkNamed(domain, mail);
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    private MailKey parkNamed(Domain domain, MailImpl mail) throws Exception {
        MailKey key = store.park(domain, mail);
        assertThat(key.asString()).isEqualTo(mail.getName());
        return key;
    }

    /**
     * Parks on another thread a message whose first read waits for {@link SlowPark#letItFinish}:
     * a store caught half-way. No copy is made here: the backend itself must read the message.
     */
    protected SlowPark parkSlowly(Domain domain, byte[] raw) throws Exception {
        SlowMessage message = new SlowMessage(raw);
        MailImpl mail = mail(ParkedNames.newName(ReceiptOrder.next(), EIGHT_O_CLOCK, false, raw.length), SENDER,
            "bob@" + domain.asString());
        mail.setMessageNoCopy(new MimeMessageWrapper(message));
        CompletableFuture<MailKey> stored = CompletableFuture.supplyAsync(() -> {
            try {
                return store.park(domain, mail);
            } catch (MessagingException e) {
                throw new IllegalStateException(e);
            } finally {
                LifecycleUtil.dispose(mail);
            }
        });
        return new SlowPark(new MailKey(mail.getName()), message, stored);
    }

    protected static final class SlowPark {
        public final MailKey key;
        public final CompletableFuture<MailKey> stored;
        private final SlowMessage message;

        private SlowPark(MailKey key, SlowMessage message, CompletableFuture<MailKey> stored) {
            this.key = key;
            this.message = message;
            this.stored = stored;
        }

        /** Fails if the store ends without reading the message: then nothing was caught half-way. */
        public void awaitTheBackendReadingIt() throws Exception {
            CompletableFuture.anyOf(message.reading, stored).get(30, TimeUnit.SECONDS);
            assertThat(message.reading).as("the backend reads the message while it stores it").isDone();
        }

        public void letItFinish() {
            message.finish.countDown();
        }
    }

    /** As the drain settles a message some recipients of which are still owed. */
    private MailKey replaceRecipients(MailKey key, List<String> stillOwed) throws Exception {
        Mail mail = store.retrieve(customer, key).orElseThrow();
        try {
            List<MailAddress> owed = new ArrayList<>();
            for (String recipient : stillOwed) {
                owed.add(address(recipient));
            }
            return store.replaceRecipients(customer, key, mail, owed);
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    /** As the expiry sweep records the delay warning it sent. */
    private MailKey markWarned(MailKey key) throws Exception {
        Mail mail = store.retrieve(customer, key).orElseThrow();
        try {
            return store.markWarned(customer, key, mail);
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    private static MailImpl mail(String name, String sender, String... recipients) throws AddressException {
        MailImpl.Builder builder = MailImpl.builder().name(name != null ? name : "unnamed-" + UUID.randomUUID());
        builder.sender(sender == null ? MaybeSender.nullSender() : MaybeSender.of(address(sender)));
        for (String recipient : recipients) {
            builder.addRecipient(address(recipient));
        }
        return builder.build();
    }

    /**
     * The bytes a drain sends for this message: the stored stream itself while the message is
     * unmodified, as {@code ParkedMailClient.writeMessage} does.
     */
    protected static byte[] sentBytes(Mail mail) throws Exception {
        MimeMessage message = mail.getMessage();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (message instanceof MimeMessageWrapper && !((MimeMessageWrapper) message).isModified()) {
            try (InputStream in = ((MimeMessageWrapper) message).getMessageInputStream()) {
                in.transferTo(out);
            }
        } else {
            message.writeTo(out);
        }
        return out.toByteArray();
    }

    protected static byte[] message(String subject) {
        return ("From: alice@origin.example\r\nSubject: " + subject + "\r\nMessage-ID: <" + UUID.randomUUID()
            + "@origin.example>\r\n\r\nHello.\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** What a parser might normalise: a folded 5000-byte header, 8-bit text, a leading dot, a From_ line, 64 KB. */
    private static byte[] awkwardMessage() {
        StringBuilder text = new StringBuilder()
            .append("From: alice@origin.example\r\n")
            .append("Subject: =?UTF-8?Q?caf=C3=A9?=\r\n")
            .append("X-Long: ").append("x".repeat(5000)).append("\r\n")
            .append("X-Folded: one\r\n\ttwo\r\n")
            .append("Content-Type: text/plain; charset=UTF-8\r\n")
            .append("Content-Transfer-Encoding: 8bit\r\n")
            .append("\r\n")
            .append(".a line that starts with a dot\r\n")
            .append("From the start of a line\r\n")
            .append("caf\u00e9 \u00e9t\u00e9 \u2603\r\n");
        while (text.length() < 64 * 1024) {
            text.append("line ").append(text.length()).append(" of the body, trailing space \r\n");
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    protected static MailAddress address(String address) throws AddressException {
        return new MailAddress(address);
    }

    /** A message whose first read waits until the test lets it go: a store caught half-way. */
    private static final class SlowMessage implements MimeMessageSource {
        final CompletableFuture<Void> reading = new CompletableFuture<>();
        final CountDownLatch finish = new CountDownLatch(1);
        private final byte[] raw;

        SlowMessage(byte[] raw) {
            this.raw = raw;
        }

        @Override
        public String getSourceId() {
            return "slow-" + System.identityHashCode(this);
        }

        @Override
        public long getMessageSize() {
            return raw.length;
        }

        @Override
        public InputStream getInputStream() {
            // Filter, not ByteArrayInputStream: its transferTo and readAllBytes would bypass read()
            return new FilterInputStream(new ByteArrayInputStream(raw)) {
                @Override
                public int read() throws IOException {
                    waitForTheTest();
                    return super.read();
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    waitForTheTest();
                    return super.read(buffer, offset, length);
                }
            };
        }

        private void waitForTheTest() {
            reading.complete(null);
            try {
                if (!finish.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never let the store finish");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
