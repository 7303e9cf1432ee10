package dev.jamesatrn.config;

import java.util.ArrayList;
import java.util.List;

import org.apache.commons.configuration2.ex.ConfigurationException;

/**
 * The problems of one configuration file, collected so that all of them are reported at once:
 * they stop James at start, and an operator who fixes one should not meet the next on the
 * following start. Each names the file, the key and the fix.
 */
public final class ConfigProblems {
    private final String source;
    private final String heading;
    private final List<String> messages = new ArrayList<>();

    /** {@code source} is the file as the operator knows it (conf/atrn.xml); {@code heading} opens the exception. */
    public ConfigProblems(String source, String heading) {
        this.source = source;
        this.heading = heading;
    }

    public void add(String key, String what, String fix) {
        messages.add(source + ": key '" + key + "': " + what + ". Fix: " + fix + ".");
    }

    public int count() {
        return messages.size();
    }

    public void throwIfAny() throws ConfigurationException {
        if (!messages.isEmpty()) {
            throw new ConfigurationException(heading + ":\n  " + String.join("\n  ", messages));
        }
    }
}
