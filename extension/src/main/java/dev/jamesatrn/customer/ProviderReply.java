package dev.jamesatrn.customer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.jamesatrn.smtp.SmtpPeer;
import dev.jamesatrn.smtp.SmtpPeer.Reply;

/**
 * One SMTP reply of the provider, as the client phase reads it: EHLO keywords and the 334
 * challenge text. Assembled and bounded by the provider role's own reader
 * ({@link dev.jamesatrn.smtp.ReplyReader.Assembler}): one reader for every peer we are the
 * client of.
 */
final class ProviderReply {
    /** RFC 5321 4.5.3.1.5 allows 512 octets a reply line; the framer cuts at this. */
    static final int MAX_LINE = 2048;

    final int code;
    final List<String> lines;

    ProviderReply(Reply reply) {
        this.code = reply.code();
        this.lines = reply.lines();
    }

    /** The first line, printable and bounded: for PollOutcome.reply() and error texts. */
    String firstLine() {
        return SmtpPeer.abbreviate(lines.get(0));
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
}
