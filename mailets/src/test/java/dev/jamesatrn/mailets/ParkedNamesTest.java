package dev.jamesatrn.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.api.Test;

class ParkedNamesTest {
    private static final Instant PARKED = Instant.ofEpochMilli(1_700_000_000_123L);

    @Test
    void aNewNameCarriesTimeFlagAndSize() {
        String name = ParkedNames.newName(PARKED, true, 4242);

        assertThat(name).startsWith("atrn-1700000000123-w-s4242-");
        assertThat(ParkedNames.parkedAt(name)).contains(PARKED);
        assertThat(ParkedNames.warned(name)).isTrue();
        assertThat(ParkedNames.size(name)).hasValue(4242);
    }

    @Test
    void namesFromBeforeTheSizeStillParseWithoutOne() {
        // The UUID's first group is all digits here: it must not be taken for a size.
        String old = "atrn-1700000000123--12345678-1234-1234-1234-123456789abc";

        assertThat(ParkedNames.parkedAt(old)).contains(PARKED);
        assertThat(ParkedNames.warned(old)).isFalse();
        assertThat(ParkedNames.size(old)).isEmpty();
    }

    @Test
    void namesNotGivenByUsHaveNeitherTimeNorSize() {
        String james = "Mail1700000000123-8c9e1c57-6ab5-4f4e-b1f7-2f3b0a5f8e21";

        assertThat(ParkedNames.parkedAt(james)).isEmpty();
        assertThat(ParkedNames.size(james)).isEmpty();
    }
}
