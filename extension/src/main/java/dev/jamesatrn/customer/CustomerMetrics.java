package dev.jamesatrn.customer;

import java.util.Locale;
import java.util.function.Supplier;

import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;

/**
 * The customer role's metrics through James's {@link MetricFactory}, named like the provider
 * side's ({@code atrn_...}): every name starts with {@code atrn_customer_}. Counters are summed
 * over providers; the per-provider gauge ends with the provider name, '-' made '_'. No login,
 * secret or reply text is ever part of a name.
 */
@Singleton
public class CustomerMetrics {
    static final String PREFIX = "atrn_customer_";
    static final String SKIPPED = "skipped";

    private final MetricFactory metrics;
    private final GaugeRegistry gauges;

    @Inject
    public CustomerMetrics(MetricFactory metrics, GaugeRegistry gauges) {
        this.metrics = metrics;
        this.gauges = gauges;
    }

    /** atrn_customer_polls_received, _nothing_waiting, _try_later, _refused, _failed. */
    static String pollsName(PollOutcome.Result result) {
        return PREFIX + "polls_" + result.name().toLowerCase(Locale.ROOT);
    }

    static String failuresInARowName(String provider) {
        return PREFIX + "failed_polls_in_a_row_" + provider.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "_");
    }

    TimeMetric pollTimer() {
        return metrics.timer(PREFIX + "poll_duration");
    }

    void polled(PollOutcome.Result result, int messages, long bytes) {
        metrics.generate(pollsName(result)).increment();
        metrics.generate(PREFIX + "messages_received").add(messages);
        // Metric.add takes an int; a poll may well bring more than 2 GB.
        for (long left = bytes; left > 0; left -= Integer.MAX_VALUE) {
            metrics.generate(PREFIX + "bytes_received").add((int) Math.min(left, Integer.MAX_VALUE));
        }
    }

    /** The claim was held elsewhere (another node polls this provider): no session was opened. */
    void skipped() {
        metrics.generate(PREFIX + "polls_" + SKIPPED).increment();
    }

    /** Unhealthy polls since the last healthy one: the number to alert on. */
    void registerFailuresInARow(String provider, Supplier<Integer> count) {
        gauges.register(failuresInARowName(provider), count::get);
    }
}
