package dev.jamesatrn.extension;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.annotation.PreDestroy;
import javax.inject.Inject;

import dev.jamesatrn.mailets.AtrnConfiguration;

/**
 * Threads for ATRN work that must stay off the Netty event loop: reading the store and running
 * the reversed client, which waits for the customer's replies. One thread per active session,
 * bounded by {@code maxConcurrentSessions}.
 */
public class OdmrSessions {
    private final ThreadPoolExecutor executor;
    // Replies deliberately held back (after a failed AUTH): a timer, not a sleeping thread.
    private final ScheduledExecutorService timer;
    private final ScheduledExecutorService watchdogs;
    private final TransferSlots transfers;

    @Inject
    public OdmrSessions(AtrnConfiguration configuration) {
        this.transfers = new TransferSlots(configuration.maxParallelTransfers());
        AtomicInteger counter = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(0, configuration.maxConcurrentSessions(), 60, TimeUnit.SECONDS,
            new SynchronousQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "atrn-session-" + counter.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        this.timer = daemonScheduler("atrn-delayed-replies");
        this.watchdogs = daemonScheduler("atrn-write-watchdogs");
    }

    /**
     * Slots for the work of drains, shared by every drain (ATRN and ETRN): with more drains than
     * slots they take turns, and inbound SMTP keeps a core (benchmark: inbound p99 during 20 drains).
     */
    TransferSlots transfers() {
        return transfers;
    }

    /** Write watchdogs of outbound connections: their own thread, so a slow close never delays a reply. */
    ScheduledExecutorService watchdogs() {
        return watchdogs;
    }

    private static ScheduledExecutorService daemonScheduler(String name) {
        return Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        });
    }

    void later(Duration delay, Runnable work) {
        timer.schedule(work, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** @return false when every session slot is busy. */
    public boolean submit(Runnable work) {
        try {
            executor.execute(work);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    @PreDestroy
    public void shutdown() {
        executor.shutdownNow();
        timer.shutdownNow();
        watchdogs.shutdownNow();
    }
}
