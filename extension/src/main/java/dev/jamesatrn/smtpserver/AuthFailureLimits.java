package dev.jamesatrn.smtpserver;

import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.common.base.Ticker;
import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;

import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.config.AuthLimits;

/**
 * Failed AUTH across all connections of the ODMR port: at most {@code authFailuresPerAddress}
 * per client address and {@code authFailuresPerLogin} per login within {@code authFailureWindow},
 * which starts at the first failure (one client is a {@link ClientKey}). Past a limit the credentials are not even checked, so
 * guessing gains nothing, and one WARN line says so per window. An attempt takes its place in the
 * count before its credentials are checked (and gives it back on success): parallel connections
 * cannot all slip in under the limit before the first failure is recorded.
 */
public class AuthFailureLimits {
    /**
     * The logger operators were told to watch (config-samples/README.md, authFailureWindow): kept
     * from the package this class lived in, so a logback rule written for it still applies.
     */
    public static final String LOGGER_NAME = "dev.jamesatrn.extension.AuthFailureLimits";
    private static final Logger LOGGER = LoggerFactory.getLogger(LOGGER_NAME);
    // Bounds memory whatever a peer sends: an attacker with many addresses (or many made-up logins)
    // pushes out its own oldest entries, never those of configured logins, which have their own map.
    private static final int MAX_TRACKED_ADDRESSES = 100_000;
    private static final int MAX_TRACKED_UNKNOWN_LOGINS = 20_000;

    enum Refusal { ADDRESS, LOGIN }

    /** What a limit refused: which one, and for how long yet. */
    static final class Refused {
        private final Refusal refusal;
        private final long retryAfterSeconds;

        Refused(Refusal refusal, long retryAfterSeconds) {
            this.refusal = refusal;
            this.retryAfterSeconds = retryAfterSeconds;
        }

        Refusal refusal() {
            return refusal;
        }

        long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    /** Failures of one address or one login within one window. Guarded by the AuthFailureLimits instance. */
    private static final class Window {
        private final long startNanos;
        private int failures;
        private boolean announced;

        Window(long startNanos) {
            this.startNanos = startNanos;
        }
    }

    /**
     * An attempt: refused by a limit, or counted as a failure until {@link #succeeded()} says
     * otherwise.
     */
    final class Attempt {
        private final Window address;
        private final Window login;
        private final Refused refused;

        private Attempt(Window address, Window login, Refused refused) {
            this.address = address;
            this.login = login;
            this.refused = refused;
        }

        Optional<Refused> refused() {
            return Optional.ofNullable(refused);
        }

        void succeeded() {
            synchronized (AuthFailureLimits.this) {
                if (address != null) {
                    address.failures--;
                }
                if (login != null) {
                    login.failures--;
                }
            }
        }
    }

    private final AtrnConfiguration configuration;
    private final AuthLimits limits;
    private final Ticker ticker;
    private final Cache<String, Window> byAddress;
    private final Cache<String, Window> byKnownLogin;
    private final Cache<String, Window> byUnknownLogin;

    @Inject
    public AuthFailureLimits(AtrnConfiguration configuration) {
        this(configuration, Ticker.systemTicker());
    }

    AuthFailureLimits(AtrnConfiguration configuration, Ticker ticker) {
        this.configuration = configuration;
        this.limits = configuration.authLimits();
        this.ticker = ticker;
        // expireAfterWrite: a window is written once, when its first failure happens, and ends a window later
        this.byAddress = windows(MAX_TRACKED_ADDRESSES);
        this.byKnownLogin = windows(Integer.MAX_VALUE);
        this.byUnknownLogin = windows(MAX_TRACKED_UNKNOWN_LOGINS);
    }

    private Cache<String, Window> windows(int maximumSize) {
        CacheBuilder<Object, Object> builder = CacheBuilder.newBuilder().ticker(ticker)
            .expireAfterWrite(limits.window().toNanos(), TimeUnit.NANOSECONDS);
        if (maximumSize != Integer.MAX_VALUE) {
            builder.maximumSize(maximumSize);
        }
        return builder.build();
    }

    /** Before a new AUTH starts: whether the client's address is already over its limit. */
    synchronized Optional<Refused> refusalOf(InetAddress client) {
        String address = ClientKey.of(client);
        Window window = limits.failuresPerAddress() == 0 ? null : byAddress.getIfPresent(address);
        if (window == null || window.failures < limits.failuresPerAddress()) {
            return Optional.empty();
        }
        return Optional.of(refuse(window, Refusal.ADDRESS, "client address " + address));
    }

    /** Before credentials are checked. {@code login}: canonical, empty when the client sent none James could take as one. */
    synchronized Attempt begin(InetAddress client, Optional<String> login) {
        String address = ClientKey.of(client);
        Window addressWindow = limits.failuresPerAddress() == 0 ? null : window(byAddress, address);
        Window loginWindow = limits.failuresPerLogin() == 0 || login.isEmpty() ? null
            : window(configuration.secretOf(login.get()).isPresent() ? byKnownLogin : byUnknownLogin, login.get());
        if (addressWindow != null && addressWindow.failures >= limits.failuresPerAddress()) {
            return new Attempt(null, null, refuse(addressWindow, Refusal.ADDRESS, "client address " + address));
        }
        if (loginWindow != null && loginWindow.failures >= limits.failuresPerLogin()) {
            return new Attempt(null, null, refuse(loginWindow, Refusal.LOGIN,
                "login '" + OdmrSessionLog.escaped(login.get()) + "' (first refused to " + address + ")"));
        }
        if (addressWindow != null) {
            addressWindow.failures++;
        }
        if (loginWindow != null) {
            loginWindow.failures++;
        }
        return new Attempt(addressWindow, loginWindow, null);
    }

    private Window window(Cache<String, Window> windows, String key) {
        Window window = windows.getIfPresent(key);
        if (window == null) {
            window = new Window(ticker.read());
            windows.put(key, window);
        }
        return window;
    }

    private Refused refuse(Window window, Refusal refusal, String who) {
        long left = limits.window().toNanos() - (ticker.read() - window.startNanos);
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(left + TimeUnit.SECONDS.toNanos(1) - 1));
        if (!window.announced) {
            window.announced = true;
            LOGGER.warn("AUTH refused for {} for the next {} s with {}: {} failed authentications within {} s ({} of conf/atrn.xml)",
                who, seconds, refusal == Refusal.ADDRESS ? "421" : "454", window.failures, limits.window().toSeconds(),
                refusal == Refusal.ADDRESS ? "authFailuresPerAddress" : "authFailuresPerLogin");
        }
        return new Refused(refusal, seconds);
    }
}
