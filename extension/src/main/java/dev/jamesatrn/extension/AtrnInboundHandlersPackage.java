package dev.jamesatrn.extension;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.james.smtpserver.AuthRequiredToRelayRcptHook;
import org.apache.james.smtpserver.CoreCmdHandlerLoader;

/**
 * James's core SMTP handlers for the ordinary inbound port, used as
 * {@code <handlerchain coreHandlersPackage="dev.jamesatrn.extension.AtrnInboundHandlersPackage">}:
 * exactly {@link CoreCmdHandlerLoader}'s list, with James's relay check replaced by
 * {@link AtrnRcptHook} (recipient lists) and {@link AtrnRelayRcptHook} (ATRN domains may be
 * relayed to). Nothing else of the chain changes, so every {@code <handler>} an operator adds runs
 * for ATRN recipients too.
 */
public class AtrnInboundHandlersPackage extends CoreCmdHandlerLoader {
    private static final String JAMES_RELAY_CHECK = AuthRequiredToRelayRcptHook.class.getName();

    @Override
    public List<String> getHandlers() {
        List<String> core = super.getHandlers();
        if (!core.contains(JAMES_RELAY_CHECK)) {
            // Without it, what we replace would be missing: refuse to start rather than run an open relay or refuse ATRN mail.
            throw new IllegalStateException("James's CoreCmdHandlerLoader no longer lists " + JAMES_RELAY_CHECK
                + ": this james-atrn version supports James 3.8.1. Fix: use the james-atrn build made for this James version.");
        }
        return core.stream()
            .flatMap(handler -> handler.equals(JAMES_RELAY_CHECK)
                ? Stream.of(AtrnRcptHook.class.getName(), AtrnRelayRcptHook.class.getName())
                : Stream.of(handler))
            .collect(Collectors.toUnmodifiableList());
    }
}
