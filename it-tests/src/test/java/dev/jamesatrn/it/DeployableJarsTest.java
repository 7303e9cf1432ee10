package dev.jamesatrn.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What an operator deploys runs on James 3.8.1's own JVM, Java 11 (every official image is
 * eclipse-temurin:11 based): a class file above version 55 stops James at start with
 * UnsupportedClassVersionError. This reads the header of every class in the built jars.
 */
class DeployableJarsTest {
    private static final int JAVA_11 = 55;

    @ParameterizedTest
    @ValueSource(strings = {"atrn.extension.jar", "atrn.cassandra.jar"})
    void everyClassOfTheJarRunsOnJava11(String jarProperty) throws IOException {
        Path jar = Path.of(System.getProperty(jarProperty, ""));
        assertThat(jar).as(jarProperty + ": build it first (mvn -B verify builds every module)").isRegularFile();

        List<String> tooNew = new ArrayList<>();
        int classes = 0;
        try (JarFile file = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> entries = file.entries(); entries.hasMoreElements(); ) {
                JarEntry entry = entries.nextElement();
                if (!entry.getName().endsWith(".class") || entry.getName().startsWith("META-INF/versions/")) {
                    continue;
                }
                classes++;
                int major = majorVersion(file.getInputStream(entry));
                if (major > JAVA_11) {
                    tooNew.add(entry.getName() + " (class file " + major + ")");
                }
            }
        }
        assertThat(classes).as("classes in " + jar).isPositive();
        assertThat(tooNew).as("classes in " + jar.getFileName() + " that Java 11 refuses").isEmpty();
    }

    /** JVMS 4.1: magic (u4), minor_version (u2), major_version (u2). */
    private static int majorVersion(InputStream classFile) throws IOException {
        try (DataInputStream in = new DataInputStream(classFile)) {
            assertThat(in.readInt()).as("class file magic").isEqualTo(0xCAFEBABE);
            in.readUnsignedShort();
            return in.readUnsignedShort();
        }
    }
}
