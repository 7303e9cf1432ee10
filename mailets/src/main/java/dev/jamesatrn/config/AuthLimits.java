package dev.jamesatrn.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import com.google.common.base.MoreObjects;

/**
 * Failed AUTH across connections (the delay and the three strikes of {@code authFailureDelay}
 * are per connection, so N parallel connections would give N guesses at once): at most so many
 * failures per client address and per login within a window that starts at the first of them.
 * 0 turns a limit off.
 */
public final class AuthLimits extends SettingValues {
    public static final AuthLimits DEFAULT = new AuthLimits(20, 10, Duration.ofMinutes(10));

    private final int failuresPerAddress;
    private final int failuresPerLogin;
    private final Duration window;

    public AuthLimits(int failuresPerAddress, int failuresPerLogin, Duration window) {
        this.failuresPerAddress = failuresPerAddress;
        this.failuresPerLogin = failuresPerLogin;
        this.window = window;
    }

    public int failuresPerAddress() {
        return failuresPerAddress;
    }

    public int failuresPerLogin() {
        return failuresPerLogin;
    }

    public Duration window() {
        return window;
    }

    @Override
    public String toString() {
        return MoreObjects.toStringHelper(this)
            .add("failuresPerAddress", failuresPerAddress)
            .add("failuresPerLogin", failuresPerLogin)
            .add("window", window)
            .toString();
    }

    @Override
    List<Object> values() {
        return Arrays.asList(failuresPerAddress, failuresPerLogin, window);
    }
}
