package dev.jamesatrn.customer;

import io.netty.handler.codec.LineBasedFrameDecoder;

/**
 * The client phase's line framer for the provider's replies: bounded, and able to tell whether
 * input follows the line just read (a STARTTLS 220 with bytes behind it is an injection).
 */
final class ReplyFramer extends LineBasedFrameDecoder {
    ReplyFramer() {
        super(ProviderReply.MAX_LINE, true, true);
    }

    boolean hasUnreadInput() {
        return actualReadableBytes() > 0;
    }
}
