package dev.jamesatrn.testing.host;

import static org.assertj.core.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * A program or service a test needs from the machine (fetchmail, swaks, a Docker engine). Where
 * it is missing the test is skipped and says why; in CI ({@code ATRN_TESTS_NO_SKIP=true}, set by
 * .ci/run, which installs everything) a missing one fails the test instead, so that nothing
 * passes by being skipped.
 */
public final class Prerequisites {
    public static final String NO_SKIP = "ATRN_TESTS_NO_SKIP";

    private Prerequisites() {
    }

    public static void require(boolean present, String why) {
        if (present) {
            return;
        }
        if ("true".equals(System.getenv(NO_SKIP))) {
            fail(why + " (" + NO_SKIP + "=true: in CI a skip is a failure)");
        }
        System.out.println("Skipped: " + why);
        Assumptions.abort(why);
    }
}
