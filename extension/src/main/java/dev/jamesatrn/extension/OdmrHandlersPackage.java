package dev.jamesatrn.extension;

import java.util.List;

import org.apache.james.protocols.api.handler.CommandDispatcher;
import org.apache.james.protocols.api.handler.CommandHandlerResultLogger;
import org.apache.james.protocols.lib.handler.HandlersPackage;
import org.apache.james.protocols.smtp.core.HeloCmdHandler;
import org.apache.james.protocols.smtp.core.NoopCmdHandler;
import org.apache.james.protocols.smtp.core.QuitCmdHandler;
import org.apache.james.protocols.smtp.core.RsetCmdHandler;
import org.apache.james.protocols.smtp.core.WelcomeMessageHandler;
import org.apache.james.protocols.smtp.core.esmtp.StartTlsCmdHandler;
import org.apache.james.protocols.smtp.core.log.HookResultLogger;
import dev.jamesatrn.smtpserver.AtrnCmdHandler;
import dev.jamesatrn.smtpserver.OdmrAuthCmdHandler;
import dev.jamesatrn.smtpserver.OdmrEhloCmdHandler;
import dev.jamesatrn.smtpserver.OdmrSessionLog;
import dev.jamesatrn.smtpserver.OdmrUnknownCmdHandler;

/**
 * The whole command set of the ODMR port (RFC 2645 section 5): used as
 * {@code <handlerchain coreHandlersPackage="dev.jamesatrn.extension.OdmrHandlersPackage">}. Only
 * what is listed here runs; MAIL, RCPT, DATA, VRFY and the rest reach {@link OdmrUnknownCmdHandler}.
 */
public class OdmrHandlersPackage implements HandlersPackage {
    private static final List<String> HANDLERS = List.of(
        OdmrSessionLog.class.getName(),
        WelcomeMessageHandler.class.getName(),
        CommandDispatcher.class.getName(),
        OdmrEhloCmdHandler.class.getName(),
        HeloCmdHandler.class.getName(),
        OdmrAuthCmdHandler.class.getName(),
        StartTlsCmdHandler.class.getName(),
        AtrnCmdHandler.class.getName(),
        EtrnCmdHandler.class.getName(),
        NoopCmdHandler.class.getName(),
        RsetCmdHandler.class.getName(),
        QuitCmdHandler.class.getName(),
        OdmrUnknownCmdHandler.class.getName(),
        CommandHandlerResultLogger.class.getName(),
        HookResultLogger.class.getName());

    @Override
    public List<String> getHandlers() {
        return HANDLERS;
    }
}
