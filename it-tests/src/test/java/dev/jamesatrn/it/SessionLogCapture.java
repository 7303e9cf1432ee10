package dev.jamesatrn.it;

import java.util.List;
import java.util.stream.Collectors;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

/**
 * Collects the one-line-per-ODMR-connection log (logger dev.jamesatrn.OdmrSession) of an in-JVM
 * James, or what another logger writes at INFO and above.
 */
final class SessionLogCapture {
    private final String loggerName;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    SessionLogCapture() {
        this("dev.jamesatrn.OdmrSession");
    }

    SessionLogCapture(String loggerName) {
        this.loggerName = loggerName;
    }

    void start() {
        appender.start();
        Logger logger = (Logger) LoggerFactory.getLogger(loggerName);
        // the test logging configuration may keep INFO quiet; the session line is INFO
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);
    }

    void stop() {
        ((Logger) LoggerFactory.getLogger(loggerName)).detachAppender(appender);
    }

    List<String> lines() {
        synchronized (appender.list) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        }
    }

    List<String> warnings() {
        synchronized (appender.list) {
            return appender.list.stream().filter(event -> event.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        }
    }
}
