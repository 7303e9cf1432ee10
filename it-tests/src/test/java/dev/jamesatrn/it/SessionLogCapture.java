package dev.jamesatrn.it;

import java.util.List;
import java.util.stream.Collectors;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

/** Collects the one-line-per-ODMR-connection log (logger dev.jamesatrn.OdmrSession) of an in-JVM James. */
final class SessionLogCapture {
    private static final String LOGGER = "dev.jamesatrn.OdmrSession";
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    void start() {
        appender.start();
        Logger logger = (Logger) LoggerFactory.getLogger(LOGGER);
        // the test logging configuration may keep INFO quiet; the session line is INFO
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);
    }

    void stop() {
        ((Logger) LoggerFactory.getLogger(LOGGER)).detachAppender(appender);
    }

    List<String> lines() {
        synchronized (appender.list) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        }
    }
}
