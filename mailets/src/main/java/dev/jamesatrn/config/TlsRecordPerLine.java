package dev.jamesatrn.config;

/**
 * Which reversed sessions write every line (command or message data) in a TLS record of its
 * own. fetchmail, the common ODMR customer, has no STARTTLS in ODMR mode and reads TLS from
 * the first byte one line per SSL_read, then waits in select() on the raw socket: further
 * lines of the same record sit in OpenSSL's buffer, which select() never sees, and the
 * session stalls. A record per line costs throughput, so by default only implicit-TLS
 * connections (the port fetchmail's ssl option needs) get it; STARTTLS customers are
 * proper TLS clients.
 */
public enum TlsRecordPerLine {
    IMPLICIT_TLS("implicitTls"), ALL_TLS("allTls"), NEVER("never");

    private final String configValue;

    TlsRecordPerLine(String configValue) {
        this.configValue = configValue;
    }

    public String configValue() {
        return configValue;
    }

    /**
     * @param tls the connection is encrypted
     * @param startTls the server offers STARTTLS (so its TLS, if any, came from STARTTLS)
     */
    public boolean appliesTo(boolean tls, boolean startTls) {
        switch (this) {
            case IMPLICIT_TLS:
                return tls && !startTls;
            case ALL_TLS:
                return tls;
            default:
                return false;
        }
    }
}
