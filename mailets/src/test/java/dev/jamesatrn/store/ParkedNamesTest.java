package dev.jamesatrn.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class ParkedNamesTest {
    private static final Instant PARKED = Instant.ofEpochMilli(1_700_000_000_123L);

    @Test
    void aNewNameCarriesOrderTimeFlagAndSize() {
        String name = ParkedNames.newName(1_700_000_000_100_004L, PARKED, true, 4242);

        assertThat(name).startsWith("atrn-1700000000100.004-w-s4242-p1700000000123-");
        assertThat(ParkedNames.parkedAt(name)).contains(PARKED);
        assertThat(ParkedNames.warned(name)).isTrue();
        assertThat(ParkedNames.size(name)).hasValue(4242);
    }

    /**
     * Messages accepted in one millisecond: their names sort as they were accepted, though their
     * random parts and sizes say otherwise (the order a repository lists them in, and WebAdmin's).
     */
    @Test
    void namesSortInTheOrderTheirMessagesWereAcceptedEvenWithinOneMillisecond() {
        List<String> accepted = new ArrayList<>();
        long millis = 1_700_000_000_123L;
        for (int i = 0; i < 12; i++) {
            accepted.add(ParkedNames.newName(millis * 1000 + i, PARKED, i % 3 == 0, 10 + 97 * (12 - i)));
        }
        accepted.add(ParkedNames.newName((millis + 1) * 1000, PARKED, false, 5));
        List<String> sorted = new ArrayList<>(accepted);
        Collections.shuffle(sorted, new Random(42));
        Collections.sort(sorted);

        assertThat(sorted).containsExactlyElementsOf(accepted);
    }

    @Test
    void aRenamedCopyKeepsItsPlaceInTheOrderAndItsParkingTime() {
        String name = ParkedNames.newName(1_700_000_000_100_004L, PARKED, false, 4242);

        String renamed = ParkedNames.renamed(name, true, 4242);

        assertThat(renamed).startsWith("atrn-1700000000100.004-w-s4242-p1700000000123-").isNotEqualTo(name);
        assertThat(ParkedNames.parkedAt(renamed)).contains(PARKED);
    }

    @Test
    void namesFromBeforeTheOrderFieldStillParseAndKeepTheirTimeWhenRenamed() {
        String withSize = "atrn-1700000000123--s392-b63992f2-d3ee-4832-875d-6063e9c0b2b0";

        assertThat(ParkedNames.parkedAt(withSize)).contains(PARKED);
        assertThat(ParkedNames.size(withSize)).hasValue(392);
        assertThat(ParkedNames.renamed(withSize, true, 392)).startsWith("atrn-1700000000123.000-w-s392-p1700000000123-");
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
