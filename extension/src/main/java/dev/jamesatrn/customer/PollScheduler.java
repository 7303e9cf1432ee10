package dev.jamesatrn.customer;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import javax.annotation.PreDestroy;
import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.IsStartedProbe;
import org.apache.james.metrics.api.TimeMetric;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.collect.ImmutableList;

import dev.jamesatrn.claims.DomainClaimStore;
import dev.jamesatrn.config.SettingReader;
import dev.jamesatrn.core.DaemonThreads;

/**
 * Polls every configured provider on its schedule and on demand, one poll per provider at a
 * time, on this node and across nodes (through the claim store). The next scheduled poll of a
 * provider is due {@code pollInterval} after the end of its previous poll; after an unhealthy
 * one ({@link PollOutcome.Result#healthy()}) it is due after the back-off instead:
 * {@code initialBackoff}, doubled after each further unhealthy poll up to {@code maxBackoff}, and
 * back to the interval after a healthy one. The first polls are due as soon as James has started.
 *
 * <p>Polls run on a bounded pool of daemon threads of their own ({@code maxParallelPolls}):
 * a {@link Poller} blocks for a whole session, so never on a Netty event loop. At shutdown the
 * polls are interrupted, every claim still held is released, and then the Poller is closed if it
 * is {@link AutoCloseable} (its event loops, say).
 */
@Singleton
public class PollScheduler {
    private static final Logger LOGGER = LoggerFactory.getLogger(PollScheduler.class);
    /** How often a poll that is due before James has finished starting looks again. */
    static final Duration STARTUP_CHECK = Duration.ofSeconds(1);
    /** How long James's shutdown waits for interrupted polls to end (their claims are released anyway). */
    private static final long STOP_WAIT_SECONDS = 5;

    /** What a request for a poll now came to. */
    public enum Demand {
        STARTED, ALREADY_POLLING, UNKNOWN_PROVIDER, STOPPED
    }

    /** One provider's state; guarded by the scheduler. */
    private static final class Slot {
        private final Provider provider;
        private Optional<Instant> pollingSince = Optional.empty();
        private Optional<Instant> nextPollAt = Optional.empty();
        private Optional<PollTimer.Scheduled> next = Optional.empty();
        // Bumped whenever the pending poll is replaced, so a timer task that fires after its cancel is ignored.
        private long generation;
        private Optional<PollClaims.Claim> claim = Optional.empty();
        private Optional<PollRecord> lastPoll = Optional.empty();
        private Optional<PollRecord> lastSkipped = Optional.empty();
        private int failedInARow;

        Slot(Provider provider) {
            this.provider = provider;
        }
    }

    private final CustomerConfiguration configuration;
    private final Supplier<Poller> poller;
    private final PollClaims claims;
    private final CustomerMetrics metrics;
    private final BooleanSupplier jamesStarted;
    private final PollTimer timer;
    private final ExecutorService pollThreads;
    private final Clock clock;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private boolean stopped;
    // The session, once a poll has taken it: closed at shutdown, after the polls (never created just to be closed).
    private volatile Optional<Poller> session = Optional.empty();

    /**
     * Bound as an eager singleton: nothing else would create it when WebAdmin is off. The Poller
     * and the claim store are taken only when a poll runs: James builds this child injector while
     * its own services are still starting.
     */
    @Inject
    public PollScheduler(CustomerConfiguration configuration, javax.inject.Provider<Poller> poller,
                         javax.inject.Provider<DomainClaimStore> claimStore, CustomerMetrics metrics, IsStartedProbe james) {
        this(configuration, poller::get, claimStore::get, PollClaims.thisNode(), metrics, james::isStarted,
            PollTimer.onDaemonThread("atrn-customer-timer"), pollThreads(configuration), Clock.systemUTC());
        start();
    }

    PollScheduler(CustomerConfiguration configuration, Supplier<Poller> poller, Supplier<DomainClaimStore> claimStore, String node,
                  CustomerMetrics metrics, BooleanSupplier jamesStarted, PollTimer timer, ExecutorService pollThreads, Clock clock) {
        this.configuration = configuration;
        this.poller = poller;
        this.metrics = metrics;
        this.jamesStarted = jamesStarted;
        this.timer = timer;
        this.pollThreads = pollThreads;
        this.clock = clock;
        this.claims = new PollClaims(claimStore, configuration.claimLease(), node, timer);
        for (Provider provider : configuration.providers()) {
            Slot slot = new Slot(provider);
            slots.put(provider.name().toLowerCase(Locale.ROOT), slot);
            metrics.registerFailuresInARow(provider.name(), () -> {
                synchronized (this) {
                    return slot.failedInARow;
                }
            });
        }
    }

    /** Threads are created on first use only: with no provider, nothing runs at all. */
    private static ExecutorService pollThreads(CustomerConfiguration configuration) {
        int size = Math.max(1, Math.min(configuration.providers().size(), configuration.maxParallelPolls()));
        return new ThreadPoolExecutor(size, size, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
            DaemonThreads.numbered("atrn-customer-poll"));
    }

    void start() {
        if (!configuration.enabled()) {
            LOGGER.info("ODMR customer role off: conf/{} is absent or declares no <provider>", CustomerConfiguration.FILE_NAME);
            return;
        }
        for (Provider provider : configuration.providers()) {
            if (!provider.verifyCertificate() && provider.tls() != Provider.Tls.NONE) {
                LOGGER.warn("ODMR customer: provider '{}' ({}:{}): verifyCertificate is false, so anyone between this server and the "
                    + "provider can read the login exchange and all mail", provider.name(), provider.host(), provider.port());
            }
        }
        LOGGER.info("ODMR customer: polling {}", configuration.providers().stream()
            .map(p -> p.name() + " (" + p.host() + ":" + p.port() + " " + p.tls().name().toLowerCase(Locale.ROOT) + ", every "
                + SettingReader.shortest(p.pollInterval()) + ")")
            .collect(Collectors.joining(", ")));
        synchronized (this) {
            for (Slot slot : slots.values()) {
                scheduleNext(slot, Duration.ZERO);
            }
        }
    }

    /** Starts a poll of the named provider now, unless one is running (here, or waiting for a thread). */
    public Demand pollNow(String providerName) {
        Slot slot = slots.get(providerName.toLowerCase(Locale.ROOT));
        if (slot == null) {
            return Demand.UNKNOWN_PROVIDER;
        }
        return begin(slot, PollRecord.Trigger.WEBADMIN);
    }

    public synchronized List<ProviderStatus> statuses() {
        return slots.values().stream().map(this::status).collect(ImmutableList.toImmutableList());
    }

    public synchronized Optional<ProviderStatus> status(String providerName) {
        return Optional.ofNullable(slots.get(providerName.toLowerCase(Locale.ROOT))).map(this::status);
    }

    private ProviderStatus status(Slot slot) {
        return new ProviderStatus(slot.provider, slot.pollingSince, slot.nextPollAt, slot.lastPoll, slot.lastSkipped,
            slot.failedInARow);
    }

    private synchronized void scheduleNext(Slot slot, Duration delay) {
        if (stopped) {
            return;
        }
        long generation = ++slot.generation;
        slot.nextPollAt = Optional.of(clock.instant().plus(delay));
        slot.next = Optional.of(timer.schedule(() -> due(slot, generation), delay));
    }

    private void due(Slot slot, long generation) {
        synchronized (this) {
            if (slot.generation != generation) {
                return;
            }
            // Not on demand: James's inbound services, which the session hands mail to, must be up first.
            if (!jamesStarted.getAsBoolean()) {
                scheduleNext(slot, STARTUP_CHECK);
                return;
            }
        }
        begin(slot, PollRecord.Trigger.SCHEDULE);
    }

    private synchronized Demand begin(Slot slot, PollRecord.Trigger trigger) {
        if (stopped) {
            return Demand.STOPPED;
        }
        if (slot.pollingSince.isPresent()) {
            return Demand.ALREADY_POLLING;
        }
        slot.generation++;
        slot.next.ifPresent(PollTimer.Scheduled::cancel);
        slot.next = Optional.empty();
        slot.nextPollAt = Optional.empty();
        slot.pollingSince = Optional.of(clock.instant());
        try {
            pollThreads.execute(() -> run(slot, trigger));
        } catch (RejectedExecutionException e) {
            slot.pollingSince = Optional.empty();
            return Demand.STOPPED;
        }
        return Demand.STARTED;
    }

    private void run(Slot slot, PollRecord.Trigger trigger) {
        Provider provider = slot.provider;
        Instant startedAt = clock.instant();
        long startNanos = System.nanoTime();
        PollRecord record;
        try {
            record = claimAndPoll(slot, trigger, startedAt, startNanos);
        } catch (RuntimeException | Error e) {
            // The claim store failed (nothing was claimed: see PollClaims.claim), or a bug: the schedule goes on.
            LOGGER.warn("ODMR customer: the poll of provider '{}' failed before or around its session", provider.name(), e);
            record = PollRecord.of(provider, trigger, startedAt, since(startNanos), failed(provider, startedAt, startNanos,
                "the poll could not run: " + e));
        }
        finish(slot, record);
    }

    private PollRecord claimAndPoll(Slot slot, PollRecord.Trigger trigger, Instant startedAt, long startNanos) {
        Provider provider = slot.provider;
        try (PollClaims.Claim claim = claims.claim(provider.name())) {
            if (!claim.granted()) {
                return PollRecord.skippedPoll(provider, trigger, startedAt, since(startNanos), claim.holder());
            }
            synchronized (this) {
                slot.claim = Optional.of(claim);
            }
            TimeMetric timing = metrics.pollTimer();
            PollOutcome outcome;
            try {
                Poller taken = poller.get();
                session = Optional.of(taken);
                outcome = taken.poll(provider);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                outcome = failed(provider, startedAt, startNanos, "interrupted: James is stopping");
            } catch (RuntimeException e) {
                // Poller promises never to throw for what the provider or the network does: this is a bug.
                LOGGER.warn("ODMR customer: the session with provider '{}' threw", provider.name(), e);
                outcome = failed(provider, startedAt, startNanos, "the session failed unexpectedly: " + e);
            } finally {
                timing.stopAndPublish();
                synchronized (this) {
                    slot.claim = Optional.empty();
                }
            }
            return PollRecord.of(provider, trigger, startedAt, since(startNanos), outcome);
        }
    }

    private static PollOutcome failed(Provider provider, Instant startedAt, long startNanos, String error) {
        return new PollOutcome(provider.name(), startedAt, since(startNanos), PollOutcome.Result.FAILED, Optional.empty(), 0, 0,
            Optional.of(error));
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private void finish(Slot slot, PollRecord record) {
        Optional<Instant> next;
        synchronized (this) {
            slot.pollingSince = Optional.empty();
            Duration delay;
            if (record.skipped()) {
                slot.lastSkipped = Optional.of(record);
                delay = slot.provider.pollInterval();
            } else {
                slot.lastPoll = Optional.of(record);
                boolean healthy = record.result().map(PollOutcome.Result::healthy).orElse(true);
                slot.failedInARow = healthy ? 0 : slot.failedInARow + 1;
                delay = healthy ? slot.provider.pollInterval() : backoff(slot.provider, slot.failedInARow);
            }
            scheduleNext(slot, delay);
            next = slot.nextPollAt.filter(at -> !stopped);
        }
        if (record.skipped()) {
            metrics.skipped();
        } else {
            metrics.polled(record.result().orElseThrow(), record.messages(), record.bytes());
        }
        LOGGER.info(record.logLine(next));
    }

    private static void closeQuietly(AutoCloseable session) {
        try {
            session.close();
        } catch (Exception e) {
            LOGGER.warn("ODMR customer: the session machinery did not close cleanly at shutdown", e);
        }
    }

    /** initialBackoff after the first unhealthy poll in a row, doubled after each further one, at most maxBackoff. */
    static Duration backoff(Provider provider, int failedInARow) {
        Duration delay = provider.initialBackoff();
        for (int i = 1; i < failedInARow && delay.compareTo(provider.maxBackoff()) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(provider.maxBackoff()) > 0 ? provider.maxBackoff() : delay;
    }

    /**
     * James's shutdown ({@code @PreDestroy}): no poll starts any more, running ones are interrupted,
     * and every claim still held is released, even if its poll does not end in time.
     */
    @PreDestroy
    public void stop() {
        List<PollClaims.Claim> held;
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
            for (Slot slot : slots.values()) {
                slot.generation++;
                slot.next.ifPresent(PollTimer.Scheduled::cancel);
                slot.next = Optional.empty();
                slot.nextPollAt = Optional.empty();
            }
            held = slots.values().stream().flatMap(slot -> slot.claim.stream()).collect(ImmutableList.toImmutableList());
        }
        timer.stop();
        pollThreads.shutdownNow();
        try {
            if (!pollThreads.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOGGER.warn("ODMR customer: a poll did not end within {} s of the shutdown; mail it had not acknowledged stays "
                    + "with the provider", STOP_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        held.forEach(PollClaims.Claim::close);
        session.filter(AutoCloseable.class::isInstance).map(AutoCloseable.class::cast).ifPresent(PollScheduler::closeQuietly);
        if (configuration.enabled()) {
            LOGGER.info("ODMR customer: polls stopped");
        }
    }
}
