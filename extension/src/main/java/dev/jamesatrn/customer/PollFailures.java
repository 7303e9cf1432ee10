package dev.jamesatrn.customer;

import java.time.Duration;

import javax.net.ssl.SSLException;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.ReadTimeoutException;

import dev.jamesatrn.smtp.SmtpPeer;

/** The texts of a failed or refused poll: what an operator reads in the log and in WebAdmin. */
final class PollFailures {
    private PollFailures() {
    }

    /** What a refusal of ATRN most likely means (RFC 2645 section 5.2.1). */
    static String atrnHint(int code) {
        switch (code) {
            case 450:
                return " (RFC 2645 5.2.1: the login may not claim every domain listed, or polls too often)";
            case 530:
                return " (authentication required)";
            case 502:
                return " (ATRN not available to this login)";
            default:
                return "";
        }
    }

    static String tls(Provider provider, String peer, Throwable cause) {
        String base = "TLS with " + peer + " failed: " + describe(cause);
        if (ProviderTls.isCertificateProblem(cause)) {
            return base + ". The provider's certificate is not trusted or does not name " + provider.host() + " (checked against "
                + ProviderTls.trustSource(provider) + "): add its CA there, or connect by the name in its certificate";
        }
        return base;
    }

    static boolean hasSslCause(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    static String describe(Throwable cause) {
        Throwable root = cause;
        while ((root instanceof DecoderException || root.getMessage() == null) && root.getCause() != null) {
            root = root.getCause();
        }
        if (root instanceof ReadTimeoutException) {
            return "timed out";
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return SmtpPeer.abbreviate(message);
    }

    static String seconds(Duration timeout) {
        return timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
    }
}
