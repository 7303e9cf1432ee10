package dev.jamesatrn.customer;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

/**
 * The customer's side of SMTP AUTH (RFC 4954) for one mechanism: the command to send, then the
 * answer to each {@code 334} challenge. CRAM-MD5 (the mechanism RFC 2645 section 5.1 makes
 * mandatory) and PLAIN come from the JDK's SASL client; LOGIN, which is no SASL standard, is the
 * two base64 answers it always was. Lines it returns carry the secret in some form: never log them.
 */
abstract class AuthExchange implements AutoCloseable {
    /** The AUTH command line. */
    abstract String command() throws SaslException;

    /** The answer to a {@code 334}, or empty when the mechanism expects no further challenge. */
    abstract Optional<String> answer(String challengeBase64) throws SaslException;

    @Override
    public void close() {
    }

    static AuthExchange of(Provider provider) throws SaslException {
        if (provider.mechanism() == Provider.Mechanism.LOGIN) {
            return new Login(provider.login(), provider.secret());
        }
        return new JdkSasl(provider);
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static final class JdkSasl extends AuthExchange {
        private final SaslClient client;
        private final String mechanism;

        JdkSasl(Provider provider) throws SaslException {
            this.mechanism = provider.mechanism().saslName();
            this.client = Sasl.createSaslClient(new String[] {mechanism}, null, "smtp", provider.host(), Map.of(),
                callbacks -> {
                    for (Callback callback : callbacks) {
                        if (callback instanceof NameCallback) {
                            ((NameCallback) callback).setName(provider.login());
                        } else if (callback instanceof PasswordCallback) {
                            ((PasswordCallback) callback).setPassword(provider.secret().toCharArray());
                        } else {
                            throw new UnsupportedCallbackException(callback);
                        }
                    }
                });
            if (client == null) {
                throw new SaslException("this JVM has no SASL client for " + mechanism);
            }
        }

        @Override
        String command() throws SaslException {
            if (client.hasInitialResponse()) {
                return "AUTH " + mechanism + " " + base64(client.evaluateChallenge(new byte[0]));
            }
            return "AUTH " + mechanism;
        }

        @Override
        Optional<String> answer(String challengeBase64) throws SaslException {
            if (client.isComplete()) {
                return Optional.empty();
            }
            byte[] challenge;
            try {
                challenge = Base64.getMimeDecoder().decode(challengeBase64.trim());
            } catch (IllegalArgumentException e) {
                throw new SaslException("the provider's AUTH challenge is not base64");
            }
            return Optional.of(base64(client.evaluateChallenge(challenge)));
        }

        @Override
        public void close() {
            try {
                client.dispose();
            } catch (SaslException e) {
                // nothing held that outlives the poll
            }
        }
    }

    private static final class Login extends AuthExchange {
        private final String login;
        private final String secret;
        private int step;

        Login(String login, String secret) {
            this.login = login;
            this.secret = secret;
        }

        @Override
        String command() {
            return "AUTH LOGIN";
        }

        @Override
        Optional<String> answer(String challengeBase64) {
            step++;
            if (step == 1) {
                return Optional.of(base64(login.getBytes(StandardCharsets.UTF_8)));
            }
            if (step == 2) {
                return Optional.of(base64(secret.getBytes(StandardCharsets.UTF_8)));
            }
            return Optional.empty();
        }
    }
}
