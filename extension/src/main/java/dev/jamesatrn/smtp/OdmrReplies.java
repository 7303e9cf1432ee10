package dev.jamesatrn.smtp;

import java.time.Duration;

import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPResponse;

/**
 * Every reply the ODMR port and the ETRN command send, spelled once. Codes follow RFC 2645,
 * RFC 1985, RFC 4954 and RFC 3463.
 */
public final class OdmrReplies {
    // RFC 5321 section 4.5.3.1.5: a reply line is at most 512 octets, code and CRLF included.
    private static final int MAX_REPLY_TEXT = 512 - "458 ".length() - 2;

    public static final Response ATRN_REVERSING = reply("250", "OK now reversing the connection");
    public static final Response ATRN_AUTH_REQUIRED = reply("530", "5.7.0 Authentication required before ATRN (RFC 2645)");
    public static final Response ATRN_NO_MAIL = reply("453", "You have no mail");
    public static final Response ATRN_BUSY = reply("451", "4.3.2 Too many ODMR sessions at once, try again later");

    public static final Response AUTH_OK = reply("235", "2.7.0 Authentication successful");
    public static final Response AUTH_FAILED = reply("535", "5.7.8 Authentication credentials invalid");
    public static final Response AUTH_TOO_MANY_FAILURES = closing("421", "4.7.0 Too many failed authentications; closing");
    public static final Response AUTH_PIPELINED = closing("421", "4.5.0 Commands pipelined after AUTH (RFC 4954); closing");
    public static final Response AUTH_ALREADY = reply("503", "5.5.1 Already authenticated");
    public static final Response AUTH_CANCELLED = reply("501", "5.0.0 Authentication cancelled");
    public static final Response AUTH_BAD_BASE64 = reply("501", "5.5.2 Cannot decode the BASE64 response");
    public static final Response AUTH_NO_INITIAL_RESPONSE = reply("501", "5.5.2 CRAM-MD5 takes no initial response");
    public static final Response AUTH_NO_MECHANISM = reply("501", "5.5.4 Syntax: AUTH mechanism [initial-response]");
    public static final Response AUTH_UNKNOWN_MECHANISM = reply("504", "5.5.4 Unrecognized authentication type; use CRAM-MD5, PLAIN or LOGIN");
    public static final Response AUTH_NEEDS_TLS = reply("538",
        "5.7.11 Encryption required for PLAIN and LOGIN: issue STARTTLS first, or use CRAM-MD5");

    /** Past authFailuresPerAddress: the client is the problem, so the connection ends (RFC 5321 4.2.3's 421). */
    public static Response authAddressThrottled(long retryAfterSeconds) {
        return closing("421", "4.7.0 Too many failed authentications from this address; try again in " + retryAfterSeconds + " s");
    }

    /** Past authFailuresPerLogin: RFC 4954's temporary failure; the client may be the legitimate one. */
    public static Response authLoginThrottled(long retryAfterSeconds) {
        return reply("454", "4.7.0 Too many failed authentications for this login; try again in " + retryAfterSeconds + " s");
    }

    private OdmrReplies() {
    }

    private static Response closing(String code, String text) {
        SMTPResponse response = new SMTPResponse(code, text);
        response.setEndSession(true);
        return response.immutable();
    }

    public static Response reply(String code, String text) {
        return new SMTPResponse(code, text).immutable();
    }

    public static Response atrnSyntax(String detail) {
        return reply("501", "5.5.4 Syntax: ATRN [domain *(\",\" domain)]: " + detail);
    }

    public static Response atrnNotAuthorized(String domain) {
        return reply("450", "4.7.1 Access denied: this login may not claim " + domain + "; no mail sent for any domain");
    }

    public static Response atrnTooSoon(long waitSeconds) {
        return reply("450", "4.7.0 ATRN repeated too soon; try again in " + waitSeconds + " s");
    }

    public static Response atrnCannotCheck(String why) {
        return reply("451", "4.3.0 " + why + "; try again later");
    }

    // RFC 1985 section 5.1 texts, with RFC 3463 codes (James's inbound port offers ENHANCEDSTATUSCODES).
    public static final Response ETRN_SYNTAX = reply("501", "5.5.4 Syntax Error in Parameters: use ETRN domain or ETRN @domain");
    public static final Response ETRN_IN_TRANSACTION = reply("503", "5.5.1 ETRN is not allowed inside a mail transaction (RFC 1985)");

    public static Response etrnStarted(long pending, String node) {
        return reply("253", "2.0.0 OK, " + pending + " pending messages for node " + node + " started");
    }

    public static Response etrnNothingWaiting(String node) {
        return reply("251", "2.0.0 OK, no messages waiting for node " + node);
    }

    public static Response etrnCannotQueue(String node, String why) {
        return etrnCannotQueue("4.3.0", node, why);
    }

    /** RFC 3463 X.4.6: routing loop detected. */
    public static Response etrnLoops(String node, String why) {
        return etrnCannotQueue("4.4.6", node, why);
    }

    /** RFC 3463 X.3.2: system not accepting network messages (maxEtrnDeliveries are running). */
    public static Response etrnBusy(String node) {
        return etrnCannotQueue("4.3.2", node, "too many ETRN deliveries at once; try again later");
    }

    public static Response etrnTooMany(String node, int max, Duration window, long waitSeconds) {
        return etrnCannotQueue("4.7.0", node, "too many ETRN requests from this client (at most " + max + " in "
            + window.toSeconds() + " s); try again in " + waitSeconds + " s");
    }

    private static Response etrnCannotQueue(String enhancedCode, String node, String why) {
        String text = enhancedCode + " Unable to queue messages for node " + node + ": " + why;
        // An "ETRN @suffix" can gather a reason for each of many domains.
        return reply("458", text.length() > MAX_REPLY_TEXT ? text.substring(0, MAX_REPLY_TEXT - 3) + "..." : text);
    }

    public static Response etrnNotAllowed(String node, String why) {
        return reply("459", "4.7.1 Node " + node + " not allowed: " + why);
    }

    /** A command the client sent before the reply to ATRN or ETRN (which must be waited for). */
    static Response pipelinedBehind(String command, String verb) {
        return reply("503", "5.5.1 " + verb + " was pipelined behind " + command + " and not processed; send it again");
    }

    static final Response BYE = closing("221", "2.0.0 Bye");

    public static Response unknownVerb(String verb) {
        return reply("502", "5.5.1 " + verb + " is not available on the ODMR port; use EHLO, AUTH, STARTTLS, ATRN, ETRN or QUIT");
    }
}
