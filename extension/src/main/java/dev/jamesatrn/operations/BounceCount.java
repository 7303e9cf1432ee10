package dev.jamesatrn.operations;

/** What a bounce request did; serialized as the response body. */
public final class BounceCount {
    private int bounced;
    private int removedWithoutBounce;

    public int getBounced() {
        return bounced;
    }

    public int getRemovedWithoutBounce() {
        return removedWithoutBounce;
    }

    void bounced() {
        bounced++;
    }

    void removedWithoutBounce() {
        removedWithoutBounce++;
    }

    public String describe() {
        return bounced + " bounced, " + removedWithoutBounce + " null-sender message(s) removed without a bounce";
    }
}
