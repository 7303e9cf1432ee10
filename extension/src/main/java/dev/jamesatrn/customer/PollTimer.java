package dev.jamesatrn.customer;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import dev.jamesatrn.core.DaemonThreads;

/**
 * When the scheduler's next step runs (a due poll, a claim renewal). Its own daemon thread, never
 * a Netty event loop; the steps only hand work over, so one thread serves every provider. Tests
 * replace it to see and fire every delay exactly.
 */
interface PollTimer {
    interface Scheduled {
        void cancel();
    }

    Scheduled schedule(Runnable task, Duration delay);

    /** Drops every pending step; later {@link #schedule} calls are ignored. */
    void stop();

    static PollTimer onDaemonThread(String name) {
        ScheduledExecutorService executor = DaemonThreads.scheduler(name);
        return new PollTimer() {
            @Override
            public Scheduled schedule(Runnable task, Duration delay) {
                try {
                    ScheduledFuture<?> future = executor.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
                    return () -> future.cancel(false);
                } catch (RejectedExecutionException stopped) {
                    return () -> {
                    };
                }
            }

            @Override
            public void stop() {
                executor.shutdownNow();
            }
        };
    }
}
