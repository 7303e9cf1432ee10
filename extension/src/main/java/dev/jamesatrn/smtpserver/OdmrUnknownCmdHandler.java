package dev.jamesatrn.smtpserver;

import java.util.Collection;
import java.util.List;

import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.api.handler.UnknownCommandHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import dev.jamesatrn.smtp.OdmrReplies;

/** RFC 2645 section 5.1: commands outside the ODMR set MAY get 502; we always answer so. */
public class OdmrUnknownCmdHandler implements CommandHandler<SMTPSession> {
    @Override
    public Response onCommand(SMTPSession session, Request request) {
        String verb = request.getCommand() == null || request.getCommand().isBlank()
            ? "An empty command" : printable(request.getCommand());
        return OdmrReplies.unknownVerb(verb);
    }

    private static String printable(String verb) {
        String cut = verb.length() > 32 ? verb.substring(0, 32) + "..." : verb;
        return cut.replaceAll("[^\\x21-\\x7e]", "?");
    }

    @Override
    public Collection<String> getImplCommands() {
        return List.of(UnknownCommandHandler.COMMAND_IDENTIFIER);
    }
}
