package dev.jamesatrn.drain;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.annotation.PreDestroy;
import javax.inject.Inject;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.core.DaemonThreads;

/**
 * Threads for ATRN work that must stay off the Netty event loop: reading the store and running
 * the reversed client, which waits for the customer's replies. One thread per active session,
 * bounded by {@code maxConcurrentSessions}.
 *
 * <p>ETRN deliveries have threads of their own, bounded by {@code maxEtrnDeliveries}: ETRN needs
 * no AUTH, and a delivery holds its thread 30 s per unreachable address or minutes against a host
 * that never greets, so on the ATRN threads a few strangers could keep every paying customer at
 * "451 Too many ODMR sessions".
 */
public class OdmrSessions {
    private static final Logger LOGGER = LoggerFactory.getLogger(OdmrSessions.class);
    private static final long BUSY_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final ThreadPoolExecutor executor;
    private final ThreadPoolExecutor etrnExecutor;
    // Taken before a delivery is handed to etrnExecutor and given back when it ends, so a refusal
    // never depends on whether a finished thread is back in the pool yet.
    private final Semaphore etrnDeliveries;
    private final int maxEtrnDeliveries;
    private final AtomicLong etrnBusyLoggedAt = new AtomicLong(System.nanoTime() - BUSY_LOG_INTERVAL_NANOS);
    // Replies deliberately held back (after a failed AUTH): a timer, not a sleeping thread.
    private final ScheduledExecutorService timer;
    private final ScheduledExecutorService watchdogs;
    private final TransferSlots transfers;

    @Inject
    public OdmrSessions(AtrnConfiguration configuration) {
        this.transfers = new TransferSlots(configuration.maxParallelTransfers());
        this.executor = new ThreadPoolExecutor(0, configuration.maxConcurrentSessions(), 60, TimeUnit.SECONDS,
            new SynchronousQueue<>(), DaemonThreads.numbered("atrn-session"));
        this.maxEtrnDeliveries = configuration.maxEtrnDeliveries();
        this.etrnDeliveries = new Semaphore(maxEtrnDeliveries);
        this.etrnExecutor = new ThreadPoolExecutor(maxEtrnDeliveries, maxEtrnDeliveries, 60, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), DaemonThreads.numbered("etrn-delivery"));
        this.etrnExecutor.allowCoreThreadTimeOut(true);
        this.timer = DaemonThreads.scheduler("atrn-delayed-replies");
        this.watchdogs = DaemonThreads.scheduler("atrn-write-watchdogs");
    }

    /**
     * Slots for the work of drains, shared by every drain (ATRN and ETRN): with more drains than
     * slots they take turns, and inbound SMTP keeps a core (benchmark: inbound p99 during 20 drains).
     */
    public TransferSlots transfers() {
        return transfers;
    }

    /** Write watchdogs of outbound connections: their own thread, so a slow close never delays a reply. */
    ScheduledExecutorService watchdogs() {
        return watchdogs;
    }

    public void later(Duration delay, Runnable work) {
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

    /**
     * Runs one ETRN (its reply, then its deliveries) on the ETRN threads.
     *
     * @return false when {@code maxEtrnDeliveries} ETRN are running already: nothing was queued
     */
    public boolean submitEtrn(Runnable work) {
        if (!etrnDeliveries.tryAcquire()) {
            logEtrnBusy();
            return false;
        }
        try {
            etrnExecutor.execute(() -> {
                try {
                    work.run();
                } finally {
                    etrnDeliveries.release();
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            etrnDeliveries.release();
            return false;
        }
    }

    /** Once a minute at most: a flood of ETRN must not flood the log. */
    private void logEtrnBusy() {
        long last = etrnBusyLoggedAt.get();
        long now = System.nanoTime();
        if (now - last >= BUSY_LOG_INTERVAL_NANOS && etrnBusyLoggedAt.compareAndSet(last, now)) {
            LOGGER.warn("ETRN refused with 458: all {} ETRN delivery threads are busy (maxEtrnDeliveries of conf/atrn.xml); "
                + "ATRN sessions are not affected. Logged once a minute at most", maxEtrnDeliveries);
        }
    }

    @PreDestroy
    public void shutdown() {
        executor.shutdownNow();
        etrnExecutor.shutdownNow();
        timer.shutdownNow();
        watchdogs.shutdownNow();
    }
}
