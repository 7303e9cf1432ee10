package dev.jamesatrn.smtpserver;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OdmrSessionLogTest {
    @Test
    void clientTextIsLoggedOnOneLine() {
        assertThat(OdmrSessionLog.escaped("bob\r\nINFO forged\t\u001b[2K\u202e\\x")).isEqualTo("bob\\r\\nINFO forged\\t\\x1b[2K\\u{202e}\\\\x");
        assertThat(OdmrSessionLog.escaped("caf\u00e9")).isEqualTo("caf\u00e9");
        assertThat(OdmrSessionLog.escaped("a".repeat(150))).isEqualTo("a".repeat(100) + "...(150 characters)");
    }
}
