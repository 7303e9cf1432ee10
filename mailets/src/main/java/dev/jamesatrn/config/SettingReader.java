package dev.jamesatrn.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.util.DurationParser;

import com.google.common.base.CharMatcher;
import com.google.common.base.Splitter;

/**
 * Reads the values of one element of a configuration file ({@code atrn.xml}, {@code
 * atrn-customer.xml}) and reports each bad one to {@link ConfigProblems}, then gives the
 * default, so that every problem of the file is found in one start. A value problem reads
 * {@code <label>'<raw value>' <what>}: the label says which element (empty at the top level,
 * {@code provider 'main': } for a repeated one).
 */
public final class SettingReader {
    private static final Pattern HOST_NAME = Pattern.compile(
        "^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$");
    private static final CharMatcher SEPARATORS = CharMatcher.anyOf(", \t\r\n");

    private final HierarchicalConfiguration<ImmutableNode> node;
    private final ConfigProblems problems;
    private final String keyPrefix;
    private final String label;

    public SettingReader(HierarchicalConfiguration<ImmutableNode> node, ConfigProblems problems) {
        this(node, problems, "", "");
    }

    private SettingReader(HierarchicalConfiguration<ImmutableNode> node, ConfigProblems problems, String keyPrefix,
                          String label) {
        this.node = node;
        this.problems = problems;
        this.keyPrefix = keyPrefix;
        this.label = label;
    }

    /** A child element: its keys are reported as {@code keyPrefix + key}, its value problems open with {@code label}. */
    public SettingReader within(HierarchicalConfiguration<ImmutableNode> child, String keyPrefix, String label) {
        return new SettingReader(child, problems, this.keyPrefix + keyPrefix, label);
    }

    /** The key as the problems name it (with the prefix of {@link #within}). */
    public String fullKey(String key) {
        return keyPrefix + key;
    }

    public Optional<String> raw(String key) {
        return Optional.ofNullable(node.getString(key, null));
    }

    /** Reports {@code <label>'<raw>' <what>} for the key. */
    public void badValue(String key, String raw, String what, String fix) {
        problems.add(fullKey(key), label + "'" + raw + "' " + what, fix);
    }

    /** Keys as commons-configuration reports them (no indexes): anything else is a typo. */
    public void rejectUnknownKeys(Set<String> known) {
        Iterator<String> keys = node.getKeys();
        while (keys.hasNext()) {
            String key = keys.next();
            if (!known.contains(key)) {
                problems.add(fullKey(key), "unknown key", "remove it or correct its spelling; known keys: "
                    + known.stream().sorted().collect(Collectors.joining(", ")));
            }
        }
    }

    public boolean bool(String key, boolean fallback) {
        Optional<String> raw = raw(key);
        if (raw.isEmpty()) {
            return fallback;
        }
        String value = raw.get().trim().toLowerCase(Locale.ROOT);
        if (!value.equals("true") && !value.equals("false")) {
            badValue(key, raw.get(), "is not a boolean", "write true or false");
            return fallback;
        }
        return Boolean.parseBoolean(value);
    }

    /** A value from {@code least} to {@code most}; otherwise {@code '<raw>' is not <what>}. */
    public int integer(String key, int fallback, int least, int most, String what, String fix) {
        Optional<String> raw = raw(key);
        if (raw.isEmpty()) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.get().trim());
            if (value >= least && value <= most) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        badValue(key, raw.get(), "is not " + what, fix);
        return fallback;
    }

    /** A bare number is seconds; other units as James's own settings take them (DurationParser). */
    public Duration duration(String key, DurationRange range) {
        Optional<String> raw = raw(key);
        if (raw.isEmpty()) {
            return range.fallback;
        }
        Optional<Duration> parsed = parse(raw.get()).filter(d -> range.zeroAllowed || !d.isZero());
        if (parsed.isEmpty()) {
            badValue(key, raw.get(), "is not a duration", range.notADurationFix);
            return range.fallback;
        }
        if (parsed.get().compareTo(range.least) < 0 || parsed.get().compareTo(range.most) > 0) {
            badValue(key, raw.get(), range.outside, range.outsideFix);
            return range.fallback;
        }
        return parsed.get();
    }

    private static Optional<Duration> parse(String raw) {
        try {
            return Optional.of(DurationParser.parse(raw.trim(), ChronoUnit.SECONDS));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The items of every occurrence of the key, separated by commas or white space. */
    public List<String> items(String key) {
        List<String> items = new ArrayList<>();
        for (Object raw : node.getList(key, List.of())) {
            Splitter.on(SEPARATORS).trimResults().omitEmptyStrings().split(String.valueOf(raw)).forEach(items::add);
        }
        return items;
    }

    /** 1d, 1h, 1m or 30s, as an operator writes it. */
    public static String shortest(Duration duration) {
        long seconds = duration.getSeconds();
        if (seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3_600 == 0) {
            return seconds / 3_600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }

    /**
     * Logins and secrets go on the wire and into log lines: no control or formatting characters
     * (a CR would start a new line).
     */
    public static boolean printable(String value) {
        return value.codePoints().noneMatch(SettingReader::unprintable);
    }

    public static boolean unprintable(int codePoint) {
        int type = Character.getType(codePoint);
        return Character.isISOControl(codePoint) || type == Character.FORMAT || type == Character.LINE_SEPARATOR
            || type == Character.PARAGRAPH_SEPARATOR;
    }

    /** A host name in lower case, without a trailing dot; one label is allowed ("localhost", a short node name). */
    public static boolean isHostName(String candidate) {
        return HOST_NAME.matcher(candidate).matches();
    }
}
