package dev.jamesatrn.smtp;

import java.util.List;

import org.apache.james.protocols.api.Response;

/**
 * A response of which James writes no line: a placeholder while another thread prepares the
 * real reply, or raw bytes that travel another way ({@code StreamResponse}).
 */
public interface WritesNoLines extends Response {
    @Override
    default List<CharSequence> getLines() {
        return List.of();
    }

    @Override
    default boolean isEndSession() {
        return false;
    }
}
