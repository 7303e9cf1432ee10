package dev.jamesatrn.testing.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.jamesatrn.testing.james.JamesProcess;

/** The benchmark's James: its own process, laid out from config-samples plus the benchmark's domains. */
final class BenchmarkJames {
    private BenchmarkJames() {
    }

    /** James with {@code maxHeap}, RemoteDelivery's gateway at {@code sinkPort}. */
    static JamesProcess start(Settings settings, Path workingDirectory, JamesProcess.Ports ports, Path log, String maxHeap,
                              int sinkPort) throws IOException {
        return JamesProcess.start(workingDirectory, Traffic.HOST, ports, log, maxHeap,
            conf -> configure(settings, conf, sinkPort));
    }

    static JamesProcess.Ports freePorts() {
        return new JamesProcess.Ports(JamesProcess.freePort(), JamesProcess.freePort(), JamesProcess.freePort());
    }

    private static void configure(Settings settings, Path conf, int sinkPort) throws IOException {
        StringBuilder domains = new StringBuilder("<domain name=\"" + Traffic.DOMAIN + "\"><login>customer</login></domain>");
        for (int i = 0; i < settings.sessions; i++) {
            domains.append("<domain name=\"bench-").append(i).append(".example\"><login>bench</login></domain>");
        }
        for (int i = 0; i < 10; i++) {
            domains.append("<domain name=\"backlog-").append(i).append(".example\"><login>backlog</login></domain>");
        }
        // where the latency probes' messages are parked, out of the measured domains' way
        domains.append("<domain name=\"probes.example\"><login>bench</login></domain>");
        String secret = Traffic.SECRET;
        Files.writeString(conf.resolve("atrn.xml"), "<atrn><repositoryUrlPrefix>" + settings.storePrefix() + "</repositoryUrlPrefix><logins>"
            + "<login name=\"customer\" secret=\"" + secret + "\"/><login name=\"bench\" secret=\"" + secret + "\"/>"
            + "<login name=\"backlog\" secret=\"" + secret + "\"/></logins><domains>" + domains + "</domains></atrn>");
        // The sample's one RemoteDelivery, pointed at the sink as a gateway: a second RemoteDelivery
        // would compete for the same delivery threads and look up real MX records.
        Path mailets = conf.resolve("mailetcontainer.xml");
        String sample = Files.readString(mailets);
        String relay = "<bounceProcessor>bounces</bounceProcessor>";
        if (!sample.contains(relay)) {
            throw new IllegalStateException("config-samples/mailetcontainer.xml changed: no RemoteDelivery bounceProcessor to extend");
        }
        Files.writeString(mailets, sample.replaceFirst(relay, relay + "<gateway>127.0.0.1</gateway><gatewayPort>" + sinkPort
            + "</gatewayPort>"));
        // All the benchmark's customers are on one address: the sample's per-address connection
        // limit on the ODMR port would refuse the parallel drains.
        Path smtp = conf.resolve("smtpserver.xml");
        String servers = Files.readString(smtp);
        String odmrLimit = "(?s)(<jmxName>odmrserver</jmxName>.*?)<connectionLimitPerIP>\\d+</connectionLimitPerIP>";
        if (!servers.matches("(?s).*" + odmrLimit + ".*")) {
            throw new IllegalStateException("config-samples/smtpserver.xml changed: no connectionLimitPerIP on the ODMR server");
        }
        Files.writeString(smtp, servers.replaceFirst(odmrLimit, "$1<connectionLimitPerIP>0</connectionLimitPerIP>"));
    }
}
