package dev.jamesatrn.testing.james;

import java.util.List;
import java.util.stream.Collectors;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

/** Collects what a logger (and the loggers under it) writes at INFO and above in an in-JVM James. */
public final class LogCapture {
    private final String name;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private Level levelBefore;

    public LogCapture(String name) {
        this.name = name;
    }

    /** Capturing already: for a static field, when James logs while it starts. */
    public static LogCapture started(String name) {
        LogCapture capture = new LogCapture(name);
        capture.start();
        return capture;
    }

    public void start() {
        appender.start();
        Logger logger = (Logger) LoggerFactory.getLogger(name);
        levelBefore = logger.getLevel();
        // the test logging configuration may keep INFO quiet
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);
    }

    public void stop() {
        Logger logger = (Logger) LoggerFactory.getLogger(name);
        logger.detachAppender(appender);
        logger.setLevel(levelBefore);
    }

    public List<String> lines() {
        // the appender adds under its own lock (AppenderBase.doAppend)
        synchronized (appender) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        }
    }

    public List<String> warnings() {
        synchronized (appender) {
            return appender.list.stream().filter(event -> event.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        }
    }
}
