package dev.jamesatrn.extension;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.james.smtpserver.AuthRequiredToRelayRcptHook;
import org.apache.james.smtpserver.CoreCmdHandlerLoader;
import org.apache.james.smtpserver.SendMailHandler;
import dev.jamesatrn.smtpserver.AtrnRelayRcptHook;
import dev.jamesatrn.smtpserver.HopCountHook;
import dev.jamesatrn.smtpserver.ReceiptOrderHook;

/**
 * James's core SMTP handlers for the ordinary inbound port, used as
 * {@code <handlerchain coreHandlersPackage="dev.jamesatrn.extension.AtrnInboundHandlersPackage">}:
 * exactly {@link CoreCmdHandlerLoader}'s list, with James's relay check replaced by
 * {@link AtrnRcptHook} (recipient lists) and {@link AtrnRelayRcptHook} (ATRN domains may be
 * relayed to), and {@link HopCountHook} (mail with 30 or more Received headers refused at end of
 * DATA) then {@link ReceiptOrderHook} right before James's {@link SendMailHandler} (James runs
 * message hooks in chain order, and that one hands the mail to the spooler). Nothing else of
 * the chain changes, so every {@code <handler>} an operator adds runs for ATRN recipients too.
 */
public class AtrnInboundHandlersPackage extends CoreCmdHandlerLoader {
    private static final String JAMES_RELAY_CHECK = AuthRequiredToRelayRcptHook.class.getName();
    private static final String JAMES_QUEUEING = SendMailHandler.class.getName();

    @Override
    public List<String> getHandlers() {
        List<String> core = super.getHandlers();
        for (String needed : List.of(JAMES_RELAY_CHECK, JAMES_QUEUEING)) {
            if (!core.contains(needed)) {
                // Without it, what we replace or precede would be missing: refuse to start rather
                // than run an open relay, refuse ATRN mail or park it out of order.
                throw new IllegalStateException("James's CoreCmdHandlerLoader no longer lists " + needed
                    + ": this james-atrn version supports James 3.8.1. Fix: use the james-atrn build made for this James version.");
            }
        }
        return core.stream()
            .flatMap(handler -> {
                if (handler.equals(JAMES_RELAY_CHECK)) {
                    return Stream.of(AtrnRcptHook.class.getName(), AtrnRelayRcptHook.class.getName());
                }
                if (handler.equals(JAMES_QUEUEING)) {
                    return Stream.of(HopCountHook.class.getName(), ReceiptOrderHook.class.getName(), handler);
                }
                return Stream.of(handler);
            })
            .collect(Collectors.toUnmodifiableList());
    }
}
