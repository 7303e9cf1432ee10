package dev.jamesatrn.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.jamesatrn.smtp.SmtpPeer.Broken;
import dev.jamesatrn.smtp.SmtpPeer.Reply;

class ReplyReaderTest {
    /** Lines as a peer sends them; counts how many the reader took. */
    private static final class Peer implements ReplyReader.LineSource {
        private final Iterator<String> lines;
        private int taken;

        Peer(List<String> lines) {
            this.lines = lines.iterator();
        }

        @Override
        public String next() throws Broken {
            if (!lines.hasNext()) {
                throw new Broken("connection closed");
            }
            taken++;
            return lines.next();
        }
    }

    private static List<String> continued(int count, String text) {
        return IntStream.range(0, count).mapToObj(i -> "250-" + text).collect(Collectors.toCollection(ArrayList::new));
    }

    @Test
    void aMultiLineReplyOfOneHundredLinesIsRead() throws Exception {
        List<String> lines = continued(99, "KEYWORD");
        lines.add("250 LAST");

        Reply reply = ReplyReader.read(new Peer(lines), "EHLO", "the customer");

        assertThat(reply.code()).isEqualTo(250);
        assertThat(reply.lines()).hasSize(100).endsWith("250 LAST");
    }

    @Test
    void theHundredAndFirstLineEndsTheSessionWithoutReadingFurther() {
        Peer endless = new Peer(continued(100_000, "x".repeat(60)));

        assertThatThrownBy(() -> ReplyReader.read(endless, "EHLO", "the customer"))
            .isInstanceOf(Broken.class)
            .hasMessageStartingWith("the reply to EHLO from the customer went past 100 lines or 64 KB; it began: 250-xxx")
            .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(400));
        assertThat(endless.taken).isEqualTo(101);
    }

    @Test
    void sixtyFourKilobytesInFewerLinesEndTheSessionToo() {
        Peer wide = new Peer(continued(50, "y".repeat(2000)));

        assertThatThrownBy(() -> ReplyReader.read(wide, "MAIL FROM", "mx.example:25"))
            .isInstanceOf(Broken.class)
            .hasMessageContaining("went past 100 lines or 64 KB");
        assertThat(wide.taken).isLessThan(50);
    }

    @Test
    void malformedAndCodeChangingLinesAreRefused() {
        assertThatThrownBy(() -> ReplyReader.read(new Peer(List.of("hello")), "EHLO", "the customer"))
            .hasMessage("unparseable reply to EHLO from the customer: hello");
        assertThatThrownBy(() -> ReplyReader.read(new Peer(List.of("250-a", "550 b")), "EHLO", "the customer"))
            .hasMessage("a multi-line reply to EHLO from the customer changed its code: 550 b");
    }

    @Test
    void anEnhancedCodeOfAnotherClassTakesTheReplyCodesClass() {
        assertThat(new Reply(550, List.of("550 4.2.2 mailbox full")).enhancedStatus()).contains("5.2.2");
        assertThat(new Reply(452, List.of("452 5.2.2 mailbox full")).enhancedStatus()).contains("4.2.2");
        assertThat(new Reply(550, List.of("550 5.1.1 no such user")).enhancedStatus()).contains("5.1.1");
        assertThat(new Reply(550, List.of("550 no such user")).enhancedStatus()).isEmpty();
    }
}
