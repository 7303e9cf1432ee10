package dev.jamesatrn.smtpserver;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;
import javax.inject.Singleton;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;

import dev.jamesatrn.config.AtrnConfiguration;

/**
 * ETRN needs no AUTH (RFC 1985), yet each one costs a session thread, DNS lookups, a store
 * listing and outbound connections: each client may start {@code maxEtrnPerClient} within
 * {@code etrnClientWindow} (a sliding window); beyond that it gets 458 until the oldest of its
 * requests leaves the window. One client is a {@link ClientKey}. Logged once per client and window, so a flood cannot flood the log.
 */
@Singleton
public class EtrnRateLimit {
    private static final Logger LOGGER = LoggerFactory.getLogger(EtrnRateLimit.class);
    // Bounds the memory an attacker with many addresses can make us spend; past it the least
    // recently seen clients are forgotten (and so counted afresh).
    private static final int MAX_CLIENTS = 100_000;

    /** One client's requests within the window, oldest first. */
    private static final class Requests {
        private final ArrayDeque<Long> startedAtNanos = new ArrayDeque<>();
        private long refusalLoggedAtNanos;
        private boolean refusalLogged;
    }

    private final int max;
    private final Duration window;
    private final Cache<String, Requests> clients;

    @Inject
    public EtrnRateLimit(AtrnConfiguration configuration) {
        this(configuration.etrnPolicies().maxEtrnPerClient(), configuration.etrnPolicies().etrnClientWindow());
    }

    EtrnRateLimit(int max, Duration window) {
        this.max = max;
        this.window = window;
        this.clients = CacheBuilder.newBuilder()
            .maximumSize(MAX_CLIENTS)
            .expireAfterAccess(window.toMillis(), TimeUnit.MILLISECONDS)
            .build();
    }

    public int max() {
        return max;
    }

    public Duration window() {
        return window;
    }

    /** Counts one ETRN of {@code client}; empty when it may go ahead, else how long it must wait. */
    public Optional<Duration> tryAcquire(InetAddress client) {
        return tryAcquire(client, System.nanoTime());
    }

    Optional<Duration> tryAcquire(InetAddress client, long nowNanos) {
        String key = ClientKey.of(client);
        Requests requests;
        try {
            requests = clients.get(key, Requests::new);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
        synchronized (requests) {
            long windowNanos = window.toNanos();
            while (!requests.startedAtNanos.isEmpty() && nowNanos - requests.startedAtNanos.peekFirst() >= windowNanos) {
                requests.startedAtNanos.pollFirst();
            }
            if (requests.startedAtNanos.size() < max) {
                requests.startedAtNanos.addLast(nowNanos);
                return Optional.empty();
            }
            Duration wait = Duration.ofNanos(windowNanos - (nowNanos - requests.startedAtNanos.peekFirst()));
            if (!requests.refusalLogged || nowNanos - requests.refusalLoggedAtNanos >= windowNanos) {
                requests.refusalLogged = true;
                requests.refusalLoggedAtNanos = nowNanos;
                LOGGER.warn("ETRN from {} refused: more than {} within {} s (maxEtrnPerClient, etrnClientWindow of conf/atrn.xml); "
                    + "further refusals of this client are logged once a window", key, max, window.toSeconds());
            }
            return Optional.of(wait);
        }
    }
}
