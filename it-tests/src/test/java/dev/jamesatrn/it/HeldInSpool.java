package dev.jamesatrn.it;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.mail.MessagingException;

import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;

/**
 * A mailet that keeps a spooler thread on a message carrying {@link #HEADER} until the test
 * lets it go: the slow virus scan or DNS lookup that makes James's parallel spooler park mail
 * in another order than it arrived.
 */
public class HeldInSpool extends GenericMailet {
    static final String HEADER = "X-Held-In-Spool";
    static volatile CountDownLatch release = new CountDownLatch(0);

    /** The mailet, placed before ParkForAtrn in conf/mailetcontainer.xml. */
    static String mailetXml() {
        return "<mailet match=\"All\" class=\"" + HeldInSpool.class.getName() + "\"/>";
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        if (mail.getMessage().getHeader(HEADER) != null) {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
