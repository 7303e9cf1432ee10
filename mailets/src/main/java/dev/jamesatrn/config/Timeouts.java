package dev.jamesatrn.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import com.google.common.base.MoreObjects;

/** Client-side timeouts of RFC 5321 section 4.5.3.2, used for the reversed session. */
public final class Timeouts extends SettingValues {
    public static final Timeouts RFC_5321 = new Timeouts(Duration.ofMinutes(5), Duration.ofMinutes(5),
        Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMinutes(2), Duration.ofMinutes(3),
        Duration.ofMinutes(10));

    private final Duration greeting;
    private final Duration command;
    private final Duration mail;
    private final Duration rcpt;
    private final Duration dataInitiation;
    private final Duration dataBlock;
    private final Duration dataTermination;

    public Timeouts(Duration greeting, Duration command, Duration mail, Duration rcpt,
                    Duration dataInitiation, Duration dataBlock, Duration dataTermination) {
        this.greeting = greeting;
        this.command = command;
        this.mail = mail;
        this.rcpt = rcpt;
        this.dataInitiation = dataInitiation;
        this.dataBlock = dataBlock;
        this.dataTermination = dataTermination;
    }

    public Duration greeting() {
        return greeting;
    }

    public Duration command() {
        return command;
    }

    public Duration mail() {
        return mail;
    }

    public Duration rcpt() {
        return rcpt;
    }

    public Duration dataInitiation() {
        return dataInitiation;
    }

    public Duration dataBlock() {
        return dataBlock;
    }

    public Duration dataTermination() {
        return dataTermination;
    }

    @Override
    public String toString() {
        return MoreObjects.toStringHelper(this)
            .add("greeting", greeting)
            .add("command", command)
            .add("mail", mail)
            .add("rcpt", rcpt)
            .add("dataInitiation", dataInitiation)
            .add("dataBlock", dataBlock)
            .add("dataTermination", dataTermination)
            .toString();
    }

    @Override
    List<Object> values() {
        return Arrays.asList(greeting, command, mail, rcpt, dataInitiation, dataBlock, dataTermination);
    }
}
