package dev.jamesatrn.drain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;

import org.apache.commons.configuration2.XMLConfiguration;
import org.apache.commons.configuration2.io.FileHandler;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryLoader;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.memory.MailRepositoryStoreConfiguration;
import org.apache.james.mailrepository.memory.MemoryMailRepository;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryUrlStore;
import org.apache.james.server.core.MailImpl;
import org.apache.james.server.core.MimeMessageInputStreamSource;
import org.apache.james.server.core.MimeMessageWrapper;
import org.apache.james.server.core.configuration.FileConfigurationProvider;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.jamesatrn.claims.DomainLeases;
import dev.jamesatrn.claims.InJvmDomainClaims;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.store.ParkedMailStore;
import dev.jamesatrn.store.ParkedNames;

/**
 * The drain client against a scripted {@link SmtpPeer}: no James server, no sockets, a
 * {@code memory://} ParkedMailStore, a real lease over {@link InJvmDomainClaims} and a recording
 * MailetContext for bounces. Runs in well under a second.
 */
class ParkedMailClientTest {
    private static final Instant EIGHT_O_CLOCK = Instant.parse("2024-03-01T08:00:00Z");
    private static final String SENDER = "alice@origin.example";

    /** Records every command group and data byte; answers from a script, one entry per await. */
    static final class ScriptedPeer implements SmtpPeer {
        static final String CUT = "<cut>";
        final Deque<String> script = new ArrayDeque<>();
        final List<List<String>> sent = new ArrayList<>();
        final List<String> awaited = new ArrayList<>();
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        boolean closed;

        ScriptedPeer answer(String... replies) {
            script.addAll(List.of(replies));
            return this;
        }

        @Override
        public void sendAll(List<String> commandLines) {
            sent.add(List.copyOf(commandLines));
        }

        @Override
        public Reply await(Duration timeout, String awaiting) throws Broken {
            awaited.add(awaiting);
            String next = script.poll();
            if (next == null || next.equals(CUT)) {
                throw new Broken("connection cut while awaiting " + awaiting);
            }
            List<String> lines = List.of(next.split("\n"));
            return new Reply(Integer.parseInt(next.substring(0, 3)), lines);
        }

        @Override
        public void sendData(byte[] chunk, int length, Duration timeout) {
            data.write(chunk, 0, length);
        }

        @Override
        public void close() {
            closed = true;
        }

        List<String> commands() {
            return sent.stream().flatMap(List::stream).collect(Collectors.toList());
        }
    }

    /** What the client handed to MailetContext.sendMail(mail, processor), read at the call (the copy is disposed after). */
    static final class Bounce {
        final List<String> recipients;
        final String processor;
        final String errorMessage;

        Bounce(List<String> recipients, String processor, String errorMessage) {
            this.recipients = recipients;
            this.processor = processor;
            this.errorMessage = errorMessage;
        }
    }

    private final Domain domain = Domain.of("customer.example");
    private final List<Bounce> bounces = new ArrayList<>();
    private AtrnConfiguration configuration;
    private ParkedMailStore store;
    private DomainLeases.DomainLease lease;
    private MailetContext mailetContext;
    private int order;

    @BeforeEach
    void setUp() throws Exception {
        String xml = "<atrn><repositoryUrlPrefix>memory://var/mail/atrn/</repositoryUrlPrefix>"
            + "<logins><login name=\"customer\" secret=\"s\"/></logins>"
            + "<domains><domain name=\"" + domain.asString() + "\"><login>customer</login></domain></domains></atrn>";
        configuration = AtrnConfiguration.parse(FileConfigurationProvider.getConfig(
            new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))), "conf/atrn.xml");
        store = new ParkedMailStore(memoryRepositories(), configuration);
        DomainLeases leases = new DomainLeases(new InJvmDomainClaims(), Duration.ofMinutes(2), "node");
        lease = leases.claimAll(List.of(domain), DomainLeases.Purpose.ATRN, "test").orElseThrow();
        mailetContext = (MailetContext) Proxy.newProxyInstance(MailetContext.class.getClassLoader(),
            new Class<?>[] {MailetContext.class}, (proxy, method, args) -> {
                if (method.getName().equals("sendMail") && args != null && args.length == 2 && args[1] instanceof String) {
                    Mail mail = (Mail) args[0];
                    bounces.add(new Bounce(mail.getRecipients().stream().map(MailAddress::asString).collect(Collectors.toList()),
                        (String) args[1], mail.getErrorMessage()));
                    return null;
                }
                if (method.getName().equals("toString")) {
                    return "RecordingMailetContext";
                }
                throw new UnsupportedOperationException(method.getName());
            });
    }

    private static MailRepositoryStore memoryRepositories() throws Exception {
        String xml = "<mailrepositorystore><defaultProtocol>memory</defaultProtocol><mailrepositories>"
            + "<mailrepository class=\"" + MemoryMailRepository.class.getName() + "\"><protocols><protocol>memory</protocol>"
            + "</protocols></mailrepository></mailrepositories></mailrepositorystore>";
        XMLConfiguration config = new XMLConfiguration();
        new FileHandler(config).load(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        MailRepositoryLoader loader = (className, url) -> {
            MailRepository repository = new MemoryMailRepository();
            return repository;
        };
        MemoryMailRepositoryStore repositories = new MemoryMailRepositoryStore(new MemoryMailRepositoryUrlStore(), loader,
            MailRepositoryStoreConfiguration.parse(config));
        repositories.init();
        return repositories;
    }

    private MailKey park(byte[] raw, String... recipients) throws Exception {
        MailImpl mail = MailImpl.builder()
            .name("tmp-" + UUID.randomUUID())
            .sender(SENDER)
            .addRecipients(List.of(recipients).stream().map(ParkedMailClientTest::address).collect(Collectors.toList()))
            .build();
        try {
            mail.setMessageNoCopy(new MimeMessageWrapper(MimeMessageInputStreamSource.create("raw-" + UUID.randomUUID(),
                new ByteArrayInputStream(raw))));
            long receiptOrder = EIGHT_O_CLOCK.toEpochMilli() * 1000 + order++;
            mail.setName(ParkedNames.newName(receiptOrder, EIGHT_O_CLOCK, false, mail.getMessageSize()));
            return store.park(domain, mail);
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    private static MailAddress address(String address) {
        try {
            return new MailAddress(address);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private ParkedMailClient.Outcome drain(ScriptedPeer peer) {
        return new ParkedMailClient(peer, lease, configuration, store, mailetContext, "atrn.provider.example").drain();
    }

    private List<String> parkedRecipients() throws Exception {
        List<String> all = new ArrayList<>();
        for (MailKey key : store.keys(domain)) {
            Mail mail = store.retrieve(domain, key).orElseThrow();
            try {
                mail.getRecipients().forEach(recipient -> all.add(recipient.asString()));
            } finally {
                LifecycleUtil.dispose(mail);
            }
        }
        return all;
    }

    private static final String GREETING = "220 customer.example ESMTP";
    private static final String EHLO_PLAIN = "250-customer.example\n250 HELP";
    private static final String EHLO_PIPELINING = "250-customer.example\n250-PIPELINING\n250 HELP";

    @Test
    void twoParkedMessagesAreDeliveredDotStuffedAndRemoved() throws Exception {
        byte[] first = bytes("Subject: one\r\n\r\n.leading dot\r\nbody\r\n");
        byte[] second = bytes("Subject: two\r\n\r\n..two dots\r\nend\r\n");
        park(first, "bob@customer.example");
        park(second, "carol@customer.example");
        ScriptedPeer peer = new ScriptedPeer().answer(GREETING, EHLO_PLAIN,
            "250 ok", "250 ok", "354 go", "250 queued 1",
            "250 ok", "250 ok", "354 go", "250 queued 2",
            "221 bye");

        ParkedMailClient.Outcome outcome = drain(peer);

        assertThat(outcome.brokenBecause()).isEmpty();
        assertThat(outcome.delivered()).isEqualTo(2);
        assertThat(peer.commands()).containsExactly("EHLO atrn.provider.example",
            "MAIL FROM:<" + SENDER + ">", "RCPT TO:<bob@customer.example>", "DATA",
            "MAIL FROM:<" + SENDER + ">", "RCPT TO:<carol@customer.example>", "DATA",
            "QUIT");
        assertThat(new String(peer.data.toByteArray(), StandardCharsets.US_ASCII)).isEqualTo(
            "Subject: one\r\n\r\n..leading dot\r\nbody\r\n.\r\n"
                + "Subject: two\r\n\r\n...two dots\r\nend\r\n.\r\n");
        assertThat(store.keys(domain)).isEmpty();
        assertThat(bounces).isEmpty();
        assertThat(peer.closed).isTrue();
    }

    @Test
    void aTransientRcptFailureKeepsTheCopyParkedForThatRecipientOnly() throws Exception {
        park(bytes("Subject: one\r\n\r\nbody\r\n"), "bob@customer.example", "carol@customer.example");
        ScriptedPeer peer = new ScriptedPeer().answer(GREETING, EHLO_PLAIN,
            "250 ok", "250 ok", "450 4.2.1 mailbox busy", "354 go", "250 queued", "221 bye");

        ParkedMailClient.Outcome outcome = drain(peer);

        assertThat(outcome.brokenBecause()).isEmpty();
        assertThat(outcome.delivered()).isEqualTo(1);
        assertThat(outcome.deferred()).isEqualTo(1);
        assertThat(parkedRecipients()).containsExactly("carol@customer.example");
        assertThat(bounces).isEmpty();
    }

    @Test
    void aPermanentRcptFailureBouncesThatRecipientAndRemovesTheCopy() throws Exception {
        park(bytes("Subject: one\r\n\r\nbody\r\n"), "bob@customer.example", "carol@customer.example");
        ScriptedPeer peer = new ScriptedPeer().answer(GREETING, EHLO_PLAIN,
            "250 ok", "250 ok", "550 5.1.1 no such user", "354 go", "250 queued", "221 bye");

        ParkedMailClient.Outcome outcome = drain(peer);

        assertThat(outcome.brokenBecause()).isEmpty();
        assertThat(outcome.delivered()).isEqualTo(1);
        assertThat(outcome.bounced()).isEqualTo(1);
        assertThat(store.keys(domain)).isEmpty();
        assertThat(bounces).hasSize(1);
        assertThat(bounces.get(0).recipients).containsExactly("carol@customer.example");
        assertThat(bounces.get(0).processor).isEqualTo(configuration.bounceProcessor());
        assertThat(bounces.get(0).errorMessage).contains("550 5.1.1 no such user");
    }

    @Test
    void aCutWhileAwaitingTheEndOfDataReplyLeavesTheMessageParked() throws Exception {
        MailKey key = park(bytes("Subject: one\r\n\r\nbody\r\n"), "bob@customer.example");
        ScriptedPeer peer = new ScriptedPeer().answer(GREETING, EHLO_PLAIN,
            "250 ok", "250 ok", "354 go", ScriptedPeer.CUT);

        ParkedMailClient.Outcome outcome = drain(peer);

        assertThat(outcome.brokenBecause()).hasValueSatisfying(why -> assertThat(why).contains("end of data"));
        assertThat(outcome.delivered()).isZero();
        assertThat(peer.awaited).last().isEqualTo("end of data");
        assertThat(store.keys(domain)).containsExactly(key);
        assertThat(parkedRecipients()).containsExactly("bob@customer.example");
        assertThat(bounces).isEmpty();
        assertThat(peer.closed).isTrue();
    }

    @Test
    void withPipeliningTheEnvelopeGoesOutInOneWrite() throws Exception {
        park(bytes("Subject: one\r\n\r\nbody\r\n"), "bob@customer.example", "carol@customer.example");
        ScriptedPeer peer = new ScriptedPeer().answer(GREETING, EHLO_PIPELINING,
            "250 ok", "250 ok", "250 ok", "354 go", "250 queued", "221 bye");

        ParkedMailClient.Outcome outcome = drain(peer);

        assertThat(outcome.brokenBecause()).isEmpty();
        assertThat(outcome.delivered()).isEqualTo(1);
        assertThat(peer.sent).containsExactly(
            List.of("EHLO atrn.provider.example"),
            List.of("MAIL FROM:<" + SENDER + ">", "RCPT TO:<bob@customer.example>", "RCPT TO:<carol@customer.example>", "DATA"),
            List.of("QUIT"));
        assertThat(store.keys(domain)).isEmpty();
    }
}
