package dev.jamesatrn.customer;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The {@link Poller} bound by default until the ATRN customer session is part of the build: every
 * poll fails at once, visibly (WebAdmin, the poll's log line, {@code atrn_customer_polls_failed}),
 * and the scheduler backs off as for any failure.
 */
public class SessionNotBuiltPoller implements Poller {
    public static final String ERROR = "customer session not built: this James has the ODMR customer's scheduler but no ATRN session";

    @Override
    public PollOutcome poll(Provider provider) {
        return new PollOutcome(provider.name(), Instant.now(), Duration.ZERO, PollOutcome.Result.FAILED, Optional.empty(), 0, 0,
            Optional.of(ERROR));
    }
}
