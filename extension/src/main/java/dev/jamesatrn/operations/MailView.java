package dev.jamesatrn.operations;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One parked message; {@code sender} is null for the null sender ({@code <>}). The last
 * fields are filled only for a single message (they need its headers).
 */
@JsonPropertyOrder({"key", "sender", "recipients", "size", "parkedAt", "delayWarningSent", "subject", "messageId",
    "remoteAddress"})
public final class MailView {
    private final String key;
    private final Optional<String> sender;
    private final List<String> recipients;
    private final long size;
    private final Instant parkedAt;
    private final boolean delayWarningSent;
    private final Optional<String> subject;
    private final Optional<String> messageId;
    private final Optional<String> remoteAddress;

    MailView(String key, Optional<String> sender, List<String> recipients, long size, Instant parkedAt,
             boolean delayWarningSent, Optional<String> subject, Optional<String> messageId,
             Optional<String> remoteAddress) {
        this.key = key;
        this.sender = sender;
        this.recipients = recipients;
        this.size = size;
        this.parkedAt = parkedAt;
        this.delayWarningSent = delayWarningSent;
        this.subject = subject;
        this.messageId = messageId;
        this.remoteAddress = remoteAddress;
    }

    @JsonProperty("key")
    public String key() {
        return key;
    }

    @JsonProperty("sender")
    public Optional<String> sender() {
        return sender;
    }

    @JsonProperty("recipients")
    public List<String> recipients() {
        return recipients;
    }

    @JsonProperty("size")
    public long size() {
        return size;
    }

    @JsonProperty("parkedAt")
    public Instant parkedAt() {
        return parkedAt;
    }

    @JsonProperty("delayWarningSent")
    public boolean delayWarningSent() {
        return delayWarningSent;
    }

    @JsonProperty("subject")
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    public Optional<String> subject() {
        return subject;
    }

    @JsonProperty("messageId")
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    public Optional<String> messageId() {
        return messageId;
    }

    @JsonProperty("remoteAddress")
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    public Optional<String> remoteAddress() {
        return remoteAddress;
    }
}
