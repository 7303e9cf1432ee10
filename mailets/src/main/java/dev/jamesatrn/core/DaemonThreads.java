package dev.jamesatrn.core;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of this extension: daemons, so that none of them keeps a stopping James alive, and
 * named after their role ({@code atrn-...}, {@code etrn-...}) so a thread dump says who is busy.
 */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    /** Every thread called {@code name}: for an executor of one thread. */
    public static ThreadFactory named(String name) {
        return runnable -> daemon(runnable, name);
    }

    /** {@code prefix-1}, {@code prefix-2}, ...: for a pool. */
    public static ThreadFactory numbered(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> daemon(runnable, prefix + "-" + counter.incrementAndGet());
    }

    /** One scheduler thread called {@code name}. */
    public static ScheduledExecutorService scheduler(String name) {
        return Executors.newSingleThreadScheduledExecutor(named(name));
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }
}
