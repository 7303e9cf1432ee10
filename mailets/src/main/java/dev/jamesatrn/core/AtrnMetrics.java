package dev.jamesatrn.core;

import java.util.Locale;

import javax.inject.Inject;
import javax.inject.Singleton;

import org.apache.james.core.Domain;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.jamesatrn.config.AtrnConfiguration;
import dev.jamesatrn.store.ParkedMailStore;

/**
 * Our counters, timers and gauges, through James's own {@link MetricFactory} and
 * {@link GaugeRegistry}, so they appear wherever James's metrics go (WebAdmin {@code /metrics}
 * with {@code MetricsRoutes}, JMX, Prometheus scrapers). Every name starts with {@code atrn_};
 * per-domain gauges end with the domain, dots made underscores (Prometheus names allow no dots).
 */
@Singleton
public class AtrnMetrics {
    private static final Logger LOGGER = LoggerFactory.getLogger(AtrnMetrics.class);

    private final MetricFactory metrics;

    @Inject
    public AtrnMetrics(MetricFactory metrics, GaugeRegistry gauges, AtrnConfiguration configuration, ParkedMailStore store) {
        this.metrics = metrics;
        for (Domain domain : configuration.domains()) {
            gauges.register("atrn_parked_messages_" + metricName(domain), () -> {
                try {
                    return store.count(domain);
                } catch (Exception e) {
                    // A gauge has no way to report an error: -1 is impossible as a count, so visible.
                    LOGGER.warn("Cannot count parked mail of {} for the metrics: {}", domain.asString(), e.getMessage());
                    return -1L;
                }
            });
        }
    }

    static String metricName(Domain domain) {
        return domain.asString().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "_");
    }

    public void parked() {
        metrics.generate("atrn_messages_parked").increment();
    }

    public void delivered() {
        metrics.generate("atrn_messages_delivered").increment();
    }

    public void deferred() {
        metrics.generate("atrn_messages_deferred").increment();
    }

    public void bounced() {
        metrics.generate("atrn_messages_bounced").increment();
    }

    public void expired() {
        metrics.generate("atrn_messages_expired").increment();
    }

    /** ATRN requests by the reply they got: atrn_requests_250, atrn_requests_451, ... */
    public void atrnReply(String code) {
        metrics.generate("atrn_requests_" + code).increment();
    }

    /** ETRN requests by the reply they got: atrn_etrn_requests_253, atrn_etrn_requests_458, ... */
    public void etrnReply(String code) {
        metrics.generate("atrn_etrn_requests_" + code).increment();
    }

    /** How long a drain (a reversed ATRN session or an ETRN delivery) took, from its start. */
    public TimeMetric drainTimer() {
        return metrics.timer("atrn_drain_duration");
    }
}
