package dev.jamesatrn.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class DotStuffingOutputStreamTest {
    private final ByteArrayOutputStream wire = new ByteArrayOutputStream();
    private final List<Integer> chunkLengths = new ArrayList<>();

    private String stuff(String message, int chunkSize) throws Exception {
        DotStuffingOutputStream out = new DotStuffingOutputStream((chunk, length) -> {
            wire.write(chunk, 0, length);
            chunkLengths.add(length);
        }, chunkSize);
        out.write(message.getBytes(StandardCharsets.ISO_8859_1));
        out.finishWithEndOfData();
        String sent = wire.toString(StandardCharsets.ISO_8859_1);
        assertThat(sent).endsWith("\r\n.\r\n");
        assertThat(out.bytesWritten()).as("the end-of-data line is not message bytes").isEqualTo(sent.length() - 3);
        return sent.substring(0, sent.length() - 3);
    }

    @Test
    void dotsThatStartALineAreDoubledAndNothingElseChanges() throws Exception {
        assertThat(stuff(".first\r\nmid.dle\r\n..two\r\n.\r\ncaf\u00e9\r\n", 64))
            .isEqualTo("..first\r\nmid.dle\r\n...two\r\n..\r\ncaf\u00e9\r\n");
    }

    @Test
    void aMessageWithoutFinalCrlfGetsOneSoTheDotHasItsOwnLine() throws Exception {
        assertThat(stuff("no newline at end", 64)).isEqualTo("no newline at end\r\n");
        wire.reset();
        assertThat(stuff("ends with CR\r", 64)).isEqualTo("ends with CR\r\n");
    }

    @Test
    void bareLineFeedsBecomeCrlf() throws Exception {
        assertThat(stuff("a\n.b\nc\r\n", 64)).isEqualTo("a\r\n..b\r\nc\r\n");
    }

    /** SMTP smuggling: a receiver that ends DATA on a bare CR "." CR must never see one. */
    @Test
    void bareCarriageReturnsBecomeCrlfAndADotAfterOneIsStuffed() throws Exception {
        assertThat(stuff("before\r.\rMAIL FROM:<evil@x>\rafter\r\n", 64))
            .isEqualTo("before\r\n..\r\nMAIL FROM:<evil@x>\r\nafter\r\n");
        wire.reset();
        assertThat(stuff("a\r\r\nb\n\r.\r\n", 64)).isEqualTo("a\r\n\r\nb\r\n\r\n..\r\n");
    }

    @Test
    void aCrlfSplitAcrossTwoWritesStaysOneLineEnd() throws Exception {
        DotStuffingOutputStream out = new DotStuffingOutputStream((chunk, length) -> wire.write(chunk, 0, length), 64);
        out.write("a\r".getBytes(StandardCharsets.ISO_8859_1));
        out.write("\n.b\r".getBytes(StandardCharsets.ISO_8859_1));
        out.write('\n');
        out.write('c');
        out.finishWithEndOfData();

        assertThat(wire.toString(StandardCharsets.ISO_8859_1)).isEqualTo("a\r\n..b\r\nc\r\n.\r\n");
    }

    @Test
    void dataLeavesInChunksNoLargerThanTheBuffer() throws Exception {
        String line = "x".repeat(1000) + "\r\n";
        String result = stuff(line.repeat(10), 256);

        assertThat(result).isEqualTo(line.repeat(10));
        assertThat(chunkLengths).allMatch(length -> length <= 256);
        assertThat(chunkLengths.stream().mapToInt(Integer::intValue).sum()).isEqualTo(line.length() * 10 + ".\r\n".length());
    }
}
