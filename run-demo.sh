#!/usr/bin/env bash
# The main job: James 3.8.1 with the james-atrn jar in extensions-jars/ and the configuration of
# config-samples/, on loopback (SMTP 2525, ODMR 3366, WebAdmin 8000). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")"
jar=extension/target/james-atrn-0.1.0-SNAPSHOT.jar
if [ ! -f "$jar" ] || [ ! -f it-tests/target/james-classpath.txt ] || [ ! -d it-tests/target/classes ] \
   || [ -n "$(find pom.xml mailets/pom.xml extension/pom.xml it-tests/pom.xml mailets/src/main extension/src/main \
              it-tests/src/main -newer "$jar" -type f 2>/dev/null | head -n 1)" ]; then
  mvn -q -B install -DskipTests
fi
exec java -cp it-tests/target/classes dev.jamesatrn.it.DemoMain "${1:-target/demo}"
