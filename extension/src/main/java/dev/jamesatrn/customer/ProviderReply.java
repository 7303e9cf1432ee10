package dev.jamesatrn.customer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One SMTP reply of the provider (RFC 5321 section 4.2), assembled line by line from the
 * client phase's framer. Bounded: a provider that never ends a multi-line reply, or sends a line
 * that is not a reply, ends the poll instead of filling the heap.
 */
final class ProviderReply {
    /** Far above a real EHLO reply (a dozen lines), far below what hurts. */
    static final int MAX_LINES = 100;
    static final int MAX_CHARS = 64 * 1024;
    /** RFC 5321 4.5.3.1.5 allows 512 octets a reply line; the framer cuts at this. */
    static final int MAX_LINE = 2048;
    private static final int EXCERPT = 200;

    final int code;
    final List<String> lines;

    private ProviderReply(int code, List<String> lines) {
        this.code = code;
        this.lines = List.copyOf(lines);
    }

    /** The first line, printable and bounded: for PollOutcome.reply() and error texts. */
    String firstLine() {
        return excerpt(lines.get(0));
    }

    /** EHLO keywords (upper case) with their parameters, lines 2.. of a 250 reply. */
    boolean advertises(String keyword) {
        return parameters(keyword).isPresent();
    }

    Optional<List<String>> parameters(String keyword) {
        for (int i = 1; i < lines.size(); i++) {
            String[] words = lines.get(i).substring(Math.min(4, lines.get(i).length())).trim().split("[ =]+");
            if (words.length > 0 && words[0].toUpperCase(Locale.US).equals(keyword)) {
                List<String> parameters = new ArrayList<>();
                for (int w = 1; w < words.length; w++) {
                    parameters.add(words[w].toUpperCase(Locale.US));
                }
                return Optional.of(parameters);
            }
        }
        return Optional.empty();
    }

    /** The reply's text after the code, of a single-line reply (334 challenges). */
    String text() {
        String line = lines.get(lines.size() - 1);
        return line.length() > 4 ? line.substring(4) : "";
    }

    static String excerpt(String line) {
        StringBuilder out = new StringBuilder(Math.min(line.length(), EXCERPT + 3));
        for (int i = 0; i < line.length() && i < EXCERPT; i++) {
            char c = line.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (line.length() > EXCERPT) {
            out.append("...");
        }
        return out.toString();
    }

    /** Collects lines until a reply is complete. One per reply awaited. */
    static final class Assembler {
        private final List<String> lines = new ArrayList<>();
        private long chars;

        /** The complete reply, or empty while more lines are due. */
        Optional<ProviderReply> add(String line) throws Malformed {
            if (!wellFormed(line)) {
                throw new Malformed("an unparseable reply line: " + excerpt(line));
            }
            if (!lines.isEmpty() && !line.regionMatches(0, lines.get(0), 0, 3)) {
                throw new Malformed("a multi-line reply that changed its code: " + excerpt(line));
            }
            chars += line.length() + 2;
            if (lines.size() >= MAX_LINES || chars > MAX_CHARS) {
                throw new Malformed("a reply of more than " + MAX_LINES + " lines or " + MAX_CHARS / 1024 + " KB, beginning: "
                    + excerpt(lines.isEmpty() ? line : lines.get(0)));
            }
            lines.add(line);
            if (line.length() == 3 || line.charAt(3) == ' ') {
                ProviderReply reply = new ProviderReply(Integer.parseInt(line.substring(0, 3)), lines);
                lines.clear();
                chars = 0;
                return Optional.of(reply);
            }
            return Optional.empty();
        }

        private static boolean wellFormed(String line) {
            if (line.length() < 3 || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
                return false;
            }
            return line.charAt(0) >= '2' && line.charAt(0) <= '5' && Character.isDigit(line.charAt(1))
                && Character.isDigit(line.charAt(2));
        }
    }

    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message);
        }
    }
}
