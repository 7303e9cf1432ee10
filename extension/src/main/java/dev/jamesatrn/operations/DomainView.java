package dev.jamesatrn.operations;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One ATRN domain. {@code drainingNow} is true while anyone holds the domain's claim (an ATRN
 * or ETRN session, the expiry sweep or another WebAdmin call: each may take mail out);
 * {@code claimedFor} says which, {@code claimedBy} is the raw owner (node, purpose, id).
 */
@JsonPropertyOrder({"domain", "logins", "parkedMessages", "parkedBytes", "oldestParkedAt", "oldestAgeSeconds",
    "drainingNow", "claimedFor", "claimedBy"})
public final class DomainView {
    private final String domain;
    private final List<String> logins;
    private final long parkedMessages;
    private final long parkedBytes;
    private final Optional<Instant> oldestParkedAt;
    private final Optional<Long> oldestAgeSeconds;
    private final boolean drainingNow;
    private final Optional<String> claimedFor;
    private final Optional<String> claimedBy;

    DomainView(String domain, List<String> logins, long parkedMessages, long parkedBytes,
               Optional<Instant> oldestParkedAt, Optional<Long> oldestAgeSeconds,
               boolean drainingNow, Optional<String> claimedFor, Optional<String> claimedBy) {
        this.domain = domain;
        this.logins = logins;
        this.parkedMessages = parkedMessages;
        this.parkedBytes = parkedBytes;
        this.oldestParkedAt = oldestParkedAt;
        this.oldestAgeSeconds = oldestAgeSeconds;
        this.drainingNow = drainingNow;
        this.claimedFor = claimedFor;
        this.claimedBy = claimedBy;
    }

    @JsonProperty("domain")
    public String domain() {
        return domain;
    }

    @JsonProperty("logins")
    public List<String> logins() {
        return logins;
    }

    @JsonProperty("parkedMessages")
    public long parkedMessages() {
        return parkedMessages;
    }

    @JsonProperty("parkedBytes")
    public long parkedBytes() {
        return parkedBytes;
    }

    @JsonProperty("oldestParkedAt")
    public Optional<Instant> oldestParkedAt() {
        return oldestParkedAt;
    }

    @JsonProperty("oldestAgeSeconds")
    public Optional<Long> oldestAgeSeconds() {
        return oldestAgeSeconds;
    }

    @JsonProperty("drainingNow")
    public boolean drainingNow() {
        return drainingNow;
    }

    @JsonProperty("claimedFor")
    public Optional<String> claimedFor() {
        return claimedFor;
    }

    @JsonProperty("claimedBy")
    public Optional<String> claimedBy() {
        return claimedBy;
    }
}
