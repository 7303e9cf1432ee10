#!/usr/bin/env bash
# The main job, both roles on loopback: the provider, James 3.8.1 with the james-atrn jar in
# extensions-jars/ and the configuration of config-samples/ (SMTP 2525, ODMR 3366, WebAdmin 8000),
# and a second James, the ODMR customer pulling its domains from it (SMTP 2625, WebAdmin 8001,
# IMAP 1143). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")"
jar=extension/target/james-atrn-0.1.0-SNAPSHOT.jar
if [ ! -f "$jar" ] || [ ! -f testing/target/james-classpath.txt ] || [ ! -d testing/target/classes ] \
   || [ -n "$(find pom.xml mailets/pom.xml extension/pom.xml testing/pom.xml mailets/src/main extension/src/main \
              testing/src/main -newer "$jar" -type f 2>/dev/null | head -n 1)" ]; then
  # the demo reads target/ only (the jar, testing's classes and James's classpath): nothing to install
  mvn -q -B package -DskipTests -pl extension,testing -am
fi
exec java -cp testing/target/classes dev.jamesatrn.testing.demo.DemoMain "${1:-target/demo}"
