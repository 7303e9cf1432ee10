package dev.jamesatrn.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Date;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.james.server.core.MailImpl;
import org.junit.jupiter.api.Test;

class ReceiptOrderTest {
    @Test
    void stampsGrowStrictlyEvenWithinOneMillisecondAndAcrossThreads() {
        ConcurrentLinkedQueue<Long> stamps = new ConcurrentLinkedQueue<>();
        IntStream.range(0, 4).parallel().forEach(thread -> {
            for (int i = 0; i < 10_000; i++) {
                stamps.add(ReceiptOrder.next());
            }
        });

        assertThat(stamps).doesNotHaveDuplicates().hasSize(40_000);
        long before = System.currentTimeMillis() * 1000;
        assertThat(ReceiptOrder.next()).isGreaterThanOrEqualTo(before);
    }

    @Test
    void aStampedMailTakesItsStampAndOthersTheMillisecondTheyWereCreatedAfterEveryStampOfIt() throws Exception {
        MailImpl stamped = MailImpl.builder().name("stamped").build();
        MailImpl unstamped = MailImpl.builder().name("unstamped").lastUpdated(new Date(1_700_000_000_123L)).build();
        try {
            ReceiptOrder.stamp(stamped);

            assertThat(ReceiptOrder.of(stamped)).isEqualTo(stamped.getAttribute(ReceiptOrder.ATTRIBUTE).get().getValue().getValue());
            assertThat(ReceiptOrder.of(unstamped)).isEqualTo(1_700_000_000_123_999L);
        } finally {
            stamped.dispose();
            unstamped.dispose();
        }
    }

    @Test
    void stampsOfOneThreadFollowTheOrderTheyWereTaken() {
        List<Long> stamps = IntStream.range(0, 5_000).mapToObj(i -> ReceiptOrder.next()).collect(Collectors.toList());

        assertThat(stamps).isSorted();
    }
}
