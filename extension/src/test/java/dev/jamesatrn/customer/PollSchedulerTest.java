package dev.jamesatrn.customer;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.apache.james.core.Domain;
import org.apache.james.metrics.api.Gauge;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.jamesatrn.claims.DomainClaimStore;
import dev.jamesatrn.claims.InJvmDomainClaims;

/**
 * The scheduler against a scripted {@link Poller}, a timer whose every delay the test sees and
 * fires, and the in-JVM claim store: when polls run, one at a time, with what back-off, what
 * they leave in WebAdmin, the metrics and the log, and that claims never outlive a poll.
 */
class PollSchedulerTest {
    private static final Duration INTERVAL = Duration.ofMinutes(15);
    private static final Duration INITIAL_BACKOFF = Duration.ofMinutes(1);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(4);
    // Renewal every 20 minutes: apart from every poll delay in these tests.
    private static final Duration LEASE = Duration.ofHours(1);
    private static final Duration RENEWAL = LEASE.dividedBy(3);
    private static final String SECRET = "the-provider-secret";
    private static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");

    private final ManualTimer timer = new ManualTimer();
    private final ScriptedPoller poller = new ScriptedPoller();
    private final CountingClaims claims = new CountingClaims();
    private final RecordingMetricFactory metricFactory = new RecordingMetricFactory();
    private final Map<String, Gauge<?>> gauges = new ConcurrentHashMap<>();
    private final AtomicBoolean jamesStarted = new AtomicBoolean(true);
    private final MutableClock clock = new MutableClock(T0);
    private final ExecutorService pollThreads = Executors.newFixedThreadPool(2);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private PollScheduler scheduler;

    @BeforeEach
    void captureLog() {
        log.start();
        Logger logger = (Logger) LoggerFactory.getLogger(PollScheduler.class);
        logger.setLevel(Level.INFO);
        logger.addAppender(log);
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger(PollScheduler.class)).detachAppender(log);
        if (scheduler != null) {
            scheduler.stop();
        }
        pollThreads.shutdownNow();
    }

    private static Provider provider(String name) {
        return new Provider(name, "odmr." + name + ".example", 366, Provider.Tls.STARTTLS, true, Provider.Trust.JVM_DEFAULT,
            "customer", SECRET, Provider.Mechanism.CRAM_MD5, List.of("customer.example"), INTERVAL, INITIAL_BACKOFF, MAX_BACKOFF,
            Duration.ofMinutes(5), Duration.ofMinutes(10));
    }

    private PollScheduler start(String... names) {
        List<Provider> providers = new ArrayList<>();
        for (String name : names) {
            providers.add(provider(name));
        }
        CustomerConfiguration configuration = new CustomerConfiguration(providers, "smtpserver-global", 2, LEASE);
        GaugeRegistry gaugeRegistry = new GaugeRegistry() {
            @Override
            public <T> GaugeRegistry register(String name, Gauge<T> gauge) {
                gauges.put(name, gauge);
                return this;
            }

            @Override
            public <T> SettableGauge<T> settableGauge(String name) {
                throw new UnsupportedOperationException();
            }
        };
        scheduler = new PollScheduler(configuration, () -> poller, () -> claims, "node-a", new CustomerMetrics(metricFactory,
            gaugeRegistry), jamesStarted::get, timer, pollThreads, clock);
        scheduler.start();
        return scheduler;
    }

    private ProviderStatus status(String name) {
        return scheduler.status(name).orElseThrow();
    }

    private void awaitPolls(String name, int count) {
        await().atMost(30, SECONDS).until(() -> poller.started(name) >= count && !status(name).polling());
    }

    private List<String> logLines() {
        synchronized (log) {
            return log.list.stream().filter(e -> e.getLevel() == Level.INFO)
                .map(ILoggingEvent::getFormattedMessage).filter(line -> line.startsWith("ATRN customer poll:"))
                .collect(Collectors.toList());
        }
    }

    @Test
    void theFirstPollWaitsUntilJamesHasStartedThenPollsAgainAnIntervalAfterItsEnd() {
        jamesStarted.set(false);
        start("main");
        assertThat(timer.pendingDelays()).containsExactly(Duration.ZERO);

        timer.fire(Duration.ZERO);
        assertThat(poller.started("main")).isZero();
        assertThat(timer.pendingDelays()).containsExactly(PollScheduler.STARTUP_CHECK);

        jamesStarted.set(true);
        CountDownLatch release = poller.blockNext("main");
        timer.fire(PollScheduler.STARTUP_CHECK);
        await().atMost(30, SECONDS).until(() -> poller.running("main") == 1);
        // while it runs, no further poll is scheduled (only the claim's renewal): the interval counts from its end
        assertThat(timer.pendingDelays()).containsExactly(RENEWAL);
        assertThat(status("main").polling()).isTrue();
        assertThat(status("main").nextPollAt()).isEmpty();

        clock.advance(Duration.ofMinutes(7));
        release.countDown();
        awaitPolls("main", 1);

        assertThat(timer.pendingDelays()).containsExactly(INTERVAL);
        assertThat(status("main").nextPollAt()).contains(T0.plus(Duration.ofMinutes(7)).plus(INTERVAL));
        assertThat(status("main").lastPoll().orElseThrow().trigger()).isEqualTo(PollRecord.Trigger.SCHEDULE);

        timer.fire(INTERVAL);
        awaitPolls("main", 2);
        assertThat(timer.pendingDelays()).containsExactly(INTERVAL);
    }

    @Test
    void aPollOnDemandStartsAtOnceAndTheScheduleRestartsFromItsEnd() {
        start("main");
        timer.fire(Duration.ZERO);
        awaitPolls("main", 1);
        assertThat(timer.pendingDelays()).containsExactly(INTERVAL);

        assertThat(scheduler.pollNow("MAIN")).isEqualTo(PollScheduler.Demand.STARTED);
        awaitPolls("main", 2);

        assertThat(status("main").lastPoll().orElseThrow().trigger()).isEqualTo(PollRecord.Trigger.WEBADMIN);
        // the poll that was pending is gone: one poll pending, an interval from the end of this one
        assertThat(timer.pendingDelays()).containsExactly(INTERVAL);
        // cancelled: the pending poll, and each poll's claim renewal once the poll ended
        assertThat(timer.cancelledDelays()).containsExactlyInAnyOrder(INTERVAL, RENEWAL, RENEWAL);
        assertThat(scheduler.pollNow("nobody")).isEqualTo(PollScheduler.Demand.UNKNOWN_PROVIDER);
    }

    @Test
    void oneProviderIsPolledOnceAtATimeWhileOthersPollInParallel() {
        start("main", "backup");
        CountDownLatch releaseMain = poller.blockNext("main");
        CountDownLatch releaseBackup = poller.blockNext("backup");
        assertThat(scheduler.pollNow("main")).isEqualTo(PollScheduler.Demand.STARTED);
        assertThat(scheduler.pollNow("backup")).isEqualTo(PollScheduler.Demand.STARTED);
        await().atMost(30, SECONDS).until(() -> poller.running("main") == 1 && poller.running("backup") == 1);

        assertThat(scheduler.pollNow("main")).isEqualTo(PollScheduler.Demand.ALREADY_POLLING);

        releaseMain.countDown();
        releaseBackup.countDown();
        awaitPolls("main", 1);
        awaitPolls("backup", 1);
        // the first scheduled poll was cancelled when the on-demand poll began; its timer task firing late starts nothing
        timer.fireCancelled(Duration.ZERO);
        assertThat(status("main").polling()).isFalse();
        assertThat(poller.started("main")).isEqualTo(1);
        assertThat(poller.mostAtOnce("main")).isEqualTo(1);
        assertThat(poller.mostAtOnce("backup")).isEqualTo(1);
    }

    @Test
    void unhealthyPollsBackOffExponentiallyUpToTheMaximumAndAHealthyOneResets() {
        start("main");
        poller.script("main", PollOutcome.Result.FAILED, PollOutcome.Result.REFUSED, PollOutcome.Result.FAILED,
            PollOutcome.Result.FAILED, PollOutcome.Result.RECEIVED, PollOutcome.Result.FAILED, PollOutcome.Result.TRY_LATER,
            PollOutcome.Result.NOTHING_WAITING);
        List<Duration> delays = new ArrayList<>();
        List<Integer> inARow = new ArrayList<>();
        Duration due = Duration.ZERO;
        for (int poll = 1; poll <= 8; poll++) {
            timer.fire(due);
            awaitPolls("main", poll);
            due = timer.pendingDelays().get(0);
            delays.add(due);
            inARow.add(status("main").failedPollsInARow());
        }

        assertThat(delays).containsExactly(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(4),
            Duration.ofMinutes(4), INTERVAL, Duration.ofMinutes(1), INTERVAL, INTERVAL);
        assertThat(inARow).containsExactly(1, 2, 3, 4, 0, 1, 0, 0);
        assertThat(gauges.get("atrn_customer_failed_polls_in_a_row_main").get()).isEqualTo(0);
    }

    @Test
    void backOffArithmeticStaysWithinItsBounds() {
        Provider provider = provider("main");
        assertThat(PollScheduler.backoff(provider, 1)).isEqualTo(Duration.ofMinutes(1));
        assertThat(PollScheduler.backoff(provider, 3)).isEqualTo(Duration.ofMinutes(4));
        assertThat(PollScheduler.backoff(provider, Integer.MAX_VALUE)).isEqualTo(MAX_BACKOFF);
    }

    @Test
    void shutdownInterruptsARunningPollReleasesItsClaimAndStartsNoOther() {
        start("main");
        poller.blockNext("main");
        scheduler.pollNow("main");
        await().atMost(30, SECONDS).until(() -> poller.running("main") == 1);
        assertThat(claims.ownerOf(PollClaims.keyOf("main"))).isPresent();

        scheduler.stop();

        assertThat(poller.interrupted("main")).isEqualTo(1);
        assertThat(pollThreads.isShutdown()).isTrue();
        assertThat(claims.ownerOf(PollClaims.keyOf("main"))).isEmpty();
        assertThat(timer.stopped).isTrue();
        assertThat(timer.pendingDelays()).isEmpty();
        assertThat(status("main").nextPollAt()).isEmpty();
        assertThat(status("main").lastPoll().orElseThrow().error()).contains("interrupted: James is stopping");
        assertThat(scheduler.pollNow("main")).isEqualTo(PollScheduler.Demand.STOPPED);
        assertThat(logLines()).hasSize(1).allMatch(line -> line.endsWith(" next=-"));
        assertThat(poller.closed.get()).as("the session closed once, after its poll").isEqualTo(1);
    }

    @Test
    void aSessionNeverTakenIsNotCreatedAtShutdown() {
        AtomicInteger taken = new AtomicInteger();
        scheduler = new PollScheduler(new CustomerConfiguration(List.of(provider("main")), "smtpserver-global", 2, LEASE),
            () -> {
                taken.incrementAndGet();
                return poller;
            }, () -> claims, "node-a", new CustomerMetrics(metricFactory, new org.apache.james.metrics.api.NoopGaugeRegistry()),
            () -> true, timer, pollThreads, clock);
        scheduler.start();
        scheduler.stop();
        assertThat(taken.get()).isZero();
        assertThat(poller.closed.get()).isZero();
    }

    @Test
    void theClaimIsReleasedWhateverThePollComesTo() {
        start("main");
        poller.script("main", PollOutcome.Result.FAILED, PollOutcome.Result.RECEIVED);
        poller.throwOn("main", 3);
        for (int poll = 1; poll <= 3; poll++) {
            scheduler.pollNow("main");
            awaitPolls("main", poll);
            assertThat(claims.ownerOf(PollClaims.keyOf("main"))).as("after poll %s", poll).isEmpty();
        }
        assertThat(claims.granted.get()).isEqualTo(3);
        assertThat(claims.released.get()).isEqualTo(3);
        assertThat(status("main").lastPoll().orElseThrow().error().orElseThrow())
            .startsWith("the session failed unexpectedly: java.lang.IllegalStateException: scripted bug");

        // a claim store that fails: the attempt is given back (it may have been written), and the poll fails visibly
        claims.failNextClaim.set(true);
        scheduler.pollNow("main");
        await().atMost(30, SECONDS).until(() -> status("main").lastPoll().orElseThrow().error()
            .orElse("").startsWith("the poll could not run"));
        assertThat(poller.started("main")).isEqualTo(3);
        assertThat(claims.released.get()).isEqualTo(4);
        assertThat(status("main").failedPollsInARow()).isEqualTo(2);
    }

    @Test
    void aClaimHeldByAnotherNodeSkipsThePollAndSaysWhoHoldsIt() {
        String otherNode = "node-b|CUSTOMER_POLL|main#12345678";
        claims.tryClaim(PollClaims.keyOf("main"), otherNode, LEASE);
        start("main");

        timer.fire(Duration.ZERO);
        await().atMost(30, SECONDS).until(() -> status("main").lastSkipped().isPresent() && !status("main").polling());

        assertThat(poller.started("main")).isZero();
        assertThat(status("main").lastPoll()).isEmpty();
        assertThat(status("main").failedPollsInARow()).isZero();
        assertThat(status("main").lastSkipped().orElseThrow().error().orElseThrow()).contains(otherNode);
        assertThat(timer.pendingDelays()).containsExactly(INTERVAL);
        assertThat(metricFactory.countFor("atrn_customer_polls_skipped")).isEqualTo(1);
        assertThat(logLines()).singleElement().asString().contains("provider=main trigger=schedule result=SKIPPED")
            .contains(otherNode);
        // the other node's claim is untouched
        assertThat(claims.ownerOf(PollClaims.keyOf("main"))).contains(otherNode);
    }

    @Test
    void theClaimIsRenewedWhileAPollRuns() {
        start("main");
        CountDownLatch release = poller.blockNext("main");
        scheduler.pollNow("main");
        await().atMost(30, SECONDS).until(() -> poller.running("main") == 1);

        timer.fire(RENEWAL);
        timer.fire(RENEWAL);
        assertThat(claims.renewed.get()).isEqualTo(2);
        assertThat(timer.pendingDelays()).containsExactly(RENEWAL);

        release.countDown();
        awaitPolls("main", 1);
        assertThat(timer.pendingDelays()).containsExactly(INTERVAL);
    }

    @Test
    void eachPollGivesOneLogLineAndItsMetricsWithoutTheSecret() {
        start("main");
        poller.next("main", new PollOutcome("main", T0, Duration.ofMillis(1234), PollOutcome.Result.RECEIVED,
            Optional.of("250 OK now reversing the connection"), 3, 4096, Optional.empty()));
        scheduler.pollNow("main");
        awaitPolls("main", 1);
        poller.next("main", new PollOutcome("main", T0, Duration.ofMillis(10), PollOutcome.Result.REFUSED,
            Optional.of("535 5.7.8 bad \"credentials\"\r\n for " + SECRET), 0, 0, Optional.of("AUTH refused with " + SECRET)));
        scheduler.pollNow("main");
        awaitPolls("main", 2);

        List<String> lines = logLines();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("ATRN customer poll: provider=main trigger=webadmin result=RECEIVED "
            + "reply=\"250 OK now reversing the connection\" messages=3 bytes=4096 duration=\\d+ms error=- next="
            + T0.plus(INTERVAL));
        assertThat(lines.get(1)).matches("ATRN customer poll: provider=main trigger=webadmin result=REFUSED "
            + "reply=\"535 5.7.8 bad \\\\\"credentials\\\\\"   for \\*\\*\\*\" messages=0 bytes=0 duration=\\d+ms "
            + "error=\"AUTH refused with \\*\\*\\*\" next=" + T0.plus(INITIAL_BACKOFF));
        assertThat(String.join("\n", lines)).doesNotContain(SECRET);
        assertThat(status("main").lastPoll().orElseThrow().reply().orElseThrow()).doesNotContain(SECRET).doesNotContain("\r");

        assertThat(metricFactory.countFor("atrn_customer_polls_received")).isEqualTo(1);
        assertThat(metricFactory.countFor("atrn_customer_polls_refused")).isEqualTo(1);
        assertThat(metricFactory.countFor("atrn_customer_messages_received")).isEqualTo(3);
        assertThat(metricFactory.countFor("atrn_customer_bytes_received")).isEqualTo(4096);
        assertThat(metricFactory.executionTimesFor("atrn_customer_poll_duration")).hasSize(2);
        assertThat(gauges.get("atrn_customer_failed_polls_in_a_row_main").get()).isEqualTo(1);
    }

    @Test
    void theClaimKeyOfAPollIsNeverAnAtrnDomain() {
        for (String name : List.of("main", "1st", "customer-example", "A")) {
            Domain key = PollClaims.keyOf(name);
            assertThat(key.asString()).isEqualTo("customer_poll." + name.toLowerCase() + ".invalid");
            assertThat(dev.jamesatrn.config.AtrnConfiguration.normalizeDomain(key.asString())).isEmpty();
        }
    }

    @Test
    void certificateChecksTurnedOffAreLoggedAtStart() {
        Provider unchecked = new Provider("lab", "odmr.lab.example", 1366, Provider.Tls.IMPLICIT, false,
            Provider.Trust.JVM_DEFAULT, "customer", SECRET, Provider.Mechanism.CRAM_MD5, List.of(), INTERVAL, INITIAL_BACKOFF,
            MAX_BACKOFF, Duration.ofMinutes(5), Duration.ofMinutes(10));
        scheduler = new PollScheduler(new CustomerConfiguration(List.of(unchecked), "smtpserver-global", 2, LEASE), () -> poller,
            () -> claims, "node-a", new CustomerMetrics(metricFactory, new org.apache.james.metrics.api.NoopGaugeRegistry()),
            () -> true, timer, pollThreads, clock);
        scheduler.start();
        synchronized (log) {
            assertThat(log.list).filteredOn(event -> event.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("provider 'lab' (odmr.lab.example:1366): verifyCertificate is false");
        }
    }

    @Test
    void withoutProvidersNothingIsScheduled() {
        scheduler = new PollScheduler(CustomerConfiguration.OFF, () -> poller, () -> claims, "node-a",
            new CustomerMetrics(metricFactory, new org.apache.james.metrics.api.NoopGaugeRegistry()), () -> true, timer,
            pollThreads, clock);
        scheduler.start();
        assertThat(timer.pendingDelays()).isEmpty();
        assertThat(scheduler.statuses()).isEmpty();
    }

    /** A timer the test drives: every schedule is recorded with its delay, and runs only when fired. */
    static final class ManualTimer implements PollTimer {
        private final class Task implements Scheduled {
            final Runnable runnable;
            final Duration delay;
            boolean cancelled;
            boolean fired;

            Task(Runnable runnable, Duration delay) {
                this.runnable = runnable;
                this.delay = delay;
            }

            @Override
            public void cancel() {
                synchronized (ManualTimer.this) {
                    cancelled = true;
                }
            }
        }

        private final List<Task> tasks = new ArrayList<>();
        volatile boolean stopped;

        @Override
        public synchronized Scheduled schedule(Runnable task, Duration delay) {
            Task scheduled = new Task(task, delay);
            if (!stopped) {
                tasks.add(scheduled);
            }
            return scheduled;
        }

        @Override
        public synchronized void stop() {
            stopped = true;
            tasks.clear();
        }

        synchronized List<Duration> pendingDelays() {
            return tasks.stream().filter(t -> !t.cancelled && !t.fired).map(t -> t.delay).collect(Collectors.toList());
        }

        synchronized List<Duration> cancelledDelays() {
            return tasks.stream().filter(t -> t.cancelled && !t.fired).map(t -> t.delay).collect(Collectors.toList());
        }

        /** Runs the pending task of this delay (on the test thread, as the timer thread would). */
        void fire(Duration delay) {
            take(delay, false).runnable.run();
        }

        /** Runs a task that was cancelled, as a timer does when the cancel comes too late. */
        void fireCancelled(Duration delay) {
            take(delay, true).runnable.run();
        }

        private synchronized Task take(Duration delay, boolean cancelled) {
            Task task = tasks.stream().filter(t -> !t.fired && t.cancelled == cancelled && t.delay.equals(delay)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing pending with delay " + delay + ": " + pendingDelays()));
            task.fired = true;
            return task;
        }
    }

    /** Answers each poll from a script (RECEIVED by default), and can hold a poll until the test releases it. */
    static final class ScriptedPoller implements Poller, AutoCloseable {
        final AtomicInteger closed = new AtomicInteger();
        private final Map<String, LinkedBlockingQueue<Object>> scripts = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> started = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> mostAtOnce = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> interrupted = new ConcurrentHashMap<>();
        private final Map<String, Integer> throwOn = new ConcurrentHashMap<>();
        private final List<String> calls = new CopyOnWriteArrayList<>();

        private LinkedBlockingQueue<Object> script(String name) {
            return scripts.computeIfAbsent(name, n -> new LinkedBlockingQueue<>());
        }

        private static AtomicInteger counter(Map<String, AtomicInteger> map, String name) {
            return map.computeIfAbsent(name, n -> new AtomicInteger());
        }

        void script(String name, PollOutcome.Result... results) {
            for (PollOutcome.Result result : results) {
                script(name).add(result);
            }
        }

        void next(String name, PollOutcome outcome) {
            script(name).add(outcome);
        }

        CountDownLatch blockNext(String name) {
            CountDownLatch latch = new CountDownLatch(1);
            script(name).add(latch);
            return latch;
        }

        void throwOn(String name, int poll) {
            throwOn.put(name, poll);
        }

        int started(String name) {
            return counter(started, name).get();
        }

        int running(String name) {
            return counter(running, name).get();
        }

        int mostAtOnce(String name) {
            return counter(mostAtOnce, name).get();
        }

        int interrupted(String name) {
            return counter(interrupted, name).get();
        }

        @Override
        public void close() {
            closed.incrementAndGet();
        }

        @Override
        public PollOutcome poll(Provider provider) throws InterruptedException {
            String name = provider.name();
            calls.add(name);
            int number = counter(started, name).incrementAndGet();
            int now = counter(running, name).incrementAndGet();
            counter(mostAtOnce, name).accumulateAndGet(now, Math::max);
            try {
                if (throwOn.getOrDefault(name, -1) == number) {
                    throw new IllegalStateException("scripted bug");
                }
                Object step = script(name).poll();
                if (step instanceof CountDownLatch latch) {
                    try {
                        latch.await();
                    } catch (InterruptedException e) {
                        counter(interrupted, name).incrementAndGet();
                        throw e;
                    }
                    step = null;
                }
                if (step instanceof PollOutcome outcome) {
                    return outcome;
                }
                PollOutcome.Result result = step instanceof PollOutcome.Result r ? r : PollOutcome.Result.RECEIVED;
                return new PollOutcome(name, Instant.now(), Duration.ZERO, result, Optional.of("scripted"), 0, 0,
                    result.healthy() ? Optional.empty() : Optional.of("scripted " + result));
            } finally {
                counter(running, name).decrementAndGet();
            }
        }
    }

    /** The in-JVM claim store, counting what the scheduler asks of it, and able to fail a claim. */
    static final class CountingClaims implements DomainClaimStore {
        private final InJvmDomainClaims store = new InJvmDomainClaims();
        final AtomicInteger granted = new AtomicInteger();
        final AtomicInteger renewed = new AtomicInteger();
        final AtomicInteger released = new AtomicInteger();
        final AtomicBoolean failNextClaim = new AtomicBoolean();

        @Override
        public boolean tryClaim(Domain domain, String owner, Duration lease) {
            if (failNextClaim.getAndSet(false)) {
                throw new IllegalStateException("claim store unavailable");
            }
            boolean claimed = store.tryClaim(domain, owner, lease);
            if (claimed) {
                granted.incrementAndGet();
            }
            return claimed;
        }

        @Override
        public boolean renew(Domain domain, String owner, Duration lease) {
            renewed.incrementAndGet();
            return store.renew(domain, owner, lease);
        }

        @Override
        public void release(Domain domain, String owner) {
            released.incrementAndGet();
            store.release(domain, owner);
        }

        @Override
        public Optional<String> ownerOf(Domain domain) {
            return store.ownerOf(domain);
        }
    }

    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration duration) {
            now = now.plus(duration);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
