package dev.jamesatrn.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.server.core.configuration.FileConfigurationProvider;
import org.junit.jupiter.api.Test;

/** The toolkit both configuration files are read with: values, defaults and the problem texts. */
class SettingReaderTest {
    private final ConfigProblems problems = new ConfigProblems("conf/x.xml", "Invalid X configuration");

    private static HierarchicalConfiguration<ImmutableNode> xml(String body) throws ConfigurationException {
        return FileConfigurationProvider.getConfig(new ByteArrayInputStream(("<x>" + body + "</x>").getBytes(StandardCharsets.UTF_8)));
    }

    private void assertProblems(String... lines) {
        assertThat(problems.count()).isEqualTo(lines.length);
        assertThatThrownBy(problems::throwIfAny).isInstanceOf(ConfigurationException.class)
            .hasMessage("Invalid X configuration:\n  " + String.join("\n  ", lines));
    }

    @Test
    void noProblemThrowsNothing() throws Exception {
        SettingReader settings = new SettingReader(xml("<flag>TRUE</flag><n>7</n><wait>2m</wait>"), problems);

        assertThat(settings.bool("flag", false)).isTrue();
        assertThat(settings.bool("absent", true)).isTrue();
        assertThat(settings.integer("n", 1, 1, 10, "a number", "fix")).isEqualTo(7);
        assertThat(settings.duration("wait", DurationRange.positiveUpTo(Duration.ofSeconds(5), Duration.ofHours(1))))
            .isEqualTo(Duration.ofMinutes(2));
        assertThat(settings.duration("absent", DurationRange.positiveUpTo(Duration.ofSeconds(5), Duration.ofHours(1))))
            .isEqualTo(Duration.ofSeconds(5));
        problems.throwIfAny();
    }

    @Test
    void eachBadValueIsReportedWithTheLabelOfItsElementAndGivesTheDefault() throws Exception {
        HierarchicalConfiguration<ImmutableNode> config = xml("<bad>yes</bad><item name=\"a\"><flag>maybe</flag><n>0</n></item>");
        SettingReader settings = new SettingReader(config, problems);
        SettingReader item = settings.within(config.configurationsAt("item").get(0), "item.", "item 'a': ");

        assertThat(settings.bool("bad", false)).isFalse();
        assertThat(item.bool("flag", true)).isTrue();
        assertThat(item.integer("n", 4, 1, 9, "a number from 1 to 9", "write a number such as 4")).isEqualTo(4);

        assertProblems("conf/x.xml: key 'bad': 'yes' is not a boolean. Fix: write true or false.",
            "conf/x.xml: key 'item.flag': item 'a': 'maybe' is not a boolean. Fix: write true or false.",
            "conf/x.xml: key 'item.n': item 'a': '0' is not a number from 1 to 9. Fix: write a number such as 4.");
    }

    @Test
    void eachFileKeepsItsWordingOfADurationOutOfRange() throws Exception {
        SettingReader settings = new SettingReader(xml("<zero>0s</zero><long>2h</long><short>5s</short><odd>soon</odd>"),
            problems);
        DurationRange upTo = DurationRange.positiveUpTo(Duration.ofMinutes(5), Duration.ofHours(1));
        DurationRange between = DurationRange.between(Duration.ofMinutes(2), Duration.ofSeconds(10), Duration.ofHours(1), "why");

        assertThat(settings.duration("zero", upTo)).isEqualTo(Duration.ofMinutes(5));
        assertThat(settings.duration("long", upTo)).isEqualTo(Duration.ofMinutes(5));
        assertThat(settings.duration("short", between)).isEqualTo(Duration.ofMinutes(2));
        assertThat(settings.duration("zero", between)).isEqualTo(Duration.ofMinutes(2));
        assertThat(settings.duration("odd", between)).isEqualTo(Duration.ofMinutes(2));

        assertProblems("conf/x.xml: key 'zero': '0s' is not a duration. Fix: write a positive duration such as 300s or 5m.",
            "conf/x.xml: key 'long': '2h' is longer than 1h, the most this key allows. Fix: write a positive duration of at most 1h.",
            "conf/x.xml: key 'short': '5s' is outside 10s .. 1h (why). Fix: write a duration in that range; the default is 2m.",
            "conf/x.xml: key 'zero': '0s' is outside 10s .. 1h (why). Fix: write a duration in that range; the default is 2m.",
            "conf/x.xml: key 'odd': 'soon' is not a duration. Fix: write a duration such as 90s, 15m or 1h.");
    }

    @Test
    void unknownKeysAreListedWithTheKnownOnes() throws Exception {
        new SettingReader(xml("<known>1</known><typo>2</typo>"), problems).rejectUnknownKeys(Set.of("known", "other"));

        assertProblems("conf/x.xml: key 'typo': unknown key. Fix: remove it or correct its spelling; known keys: known, other.");
    }

    @Test
    void itemsAreSplitOnCommasAndWhiteSpaceAcrossRepeatedKeys() throws Exception {
        SettingReader settings = new SettingReader(xml("<name>a.example, b.example\n c.example</name><name>d.example</name>"),
            problems);

        assertThat(settings.items("name")).containsExactly("a.example", "b.example", "c.example", "d.example");
        assertThat(settings.items("absent")).isEmpty();
    }

    @Test
    void durationsAreWrittenAsAnOperatorWritesThem() {
        assertThat(SettingReader.shortest(Duration.ofDays(2))).isEqualTo("2d");
        assertThat(SettingReader.shortest(Duration.ofHours(3))).isEqualTo("3h");
        assertThat(SettingReader.shortest(Duration.ofMinutes(90))).isEqualTo("90m");
        assertThat(SettingReader.shortest(Duration.ofSeconds(30))).isEqualTo("30s");
    }

    @Test
    void controlAndFormattingCharactersAreNotPrintable() {
        assertThat(SettingReader.printable("customer@example.com")).isTrue();
        assertThat(SettingReader.printable("a\rb")).isFalse();
        assertThat(SettingReader.printable("a\u2028b")).isFalse();
        assertThat(SettingReader.printable("a\u200eb")).isFalse();
    }
}
