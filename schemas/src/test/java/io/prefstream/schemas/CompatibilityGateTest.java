package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompatibilityGateTest {

  private static final Path CURRENT = Path.of("src/main/avro");
  private static final Path RELEASED = Path.of("src/main/avro-released");

  @TempDir Path work;

  @Test
  void currentSchemasAreCompatibleWithEveryRelease() throws IOException {
    assertThat(CompatibilityGate.check(CompatibilityGate.topLevelSchemas(CURRENT), RELEASED))
        .isEmpty();
  }

  @Test
  void everyTopLevelRecordHasAReleasedVersion() {
    for (Class<?> type : RecordTypes.ALL) {
      assertThat(ReleasedSchemas.of(type.getSimpleName())).as(type.getSimpleName()).isNotEmpty();
    }
  }

  @Test
  void failsOnANewFieldWithoutDefaultNamingIt() throws IOException {
    Path changed =
        copyWithChange(
            "FeedbackEvent.avsc",
            "{\"name\": \"app\",",
            "{\"name\": \"locale\", \"type\": \"string\"},\n    {\"name\": \"app\",");

    List<CompatibilityGate.Violation> violations =
        CompatibilityGate.check(CompatibilityGate.topLevelSchemas(changed), RELEASED);

    assertThat(violations).hasSize(1);
    assertThat(violations.get(0).recordName()).isEqualTo("FeedbackEvent");
    assertThat(violations.get(0).direction()).isEqualTo("backward");
    assertThat(violations.get(0).toString())
        .contains("READER_FIELD_MISSING_DEFAULT")
        .contains("locale");
  }

  @Test
  void failsOnARemovedFieldThatOldReadersNeed() throws IOException {
    Path changed =
        copyWithChange(
            "PreferencePair.avsc",
            "    {\"name\": \"weight\", \"type\": \"double\", \"min\": 0.0},\n",
            "");

    List<CompatibilityGate.Violation> violations =
        CompatibilityGate.check(CompatibilityGate.topLevelSchemas(changed), RELEASED);

    assertThat(violations).extracting(CompatibilityGate.Violation::direction).contains("forward");
    assertThat(violations.get(0).toString()).contains("weight");
  }

  @Test
  void failsTheBuildWithAReadableMessage() throws IOException {
    Path changed =
        copyWithChange(
            "ScoreRecord.avsc",
            "{\"name\": \"score\", \"type\": \"double\"",
            "{\"name\": \"score\", \"type\": \"string\"");

    assertThatThrownBy(
            () -> CompatibilityGate.main(new String[] {changed.toString(), RELEASED.toString()}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Schema compatibility gate failed")
        .hasMessageContaining("ScoreRecord vs released v1")
        .hasMessageContaining("/fields/4/type");
  }

  @Test
  void acceptsACompatibleChangeAndReleasesItAsTheNextVersion() throws IOException {
    Path changed =
        copyWithChange(
            "FeedbackEvent.avsc",
            "{\"name\": \"app\",",
            "{\"name\": \"locale\", \"type\": [\"null\", \"string\"], \"default\": null},\n"
                + "    {\"name\": \"app\",");
    Path released = work.resolve("released");
    copyTree(RELEASED, released);

    assertThat(CompatibilityGate.check(CompatibilityGate.topLevelSchemas(changed), released))
        .isEmpty();
    List<Path> written =
        CompatibilityGate.release(CompatibilityGate.topLevelSchemas(changed), released);

    assertThat(written).containsExactly(released.resolve("FeedbackEvent/v2.avsc"));
    assertThat(Files.readString(written.get(0))).contains("locale");
    assertThat(CompatibilityGate.release(CompatibilityGate.topLevelSchemas(changed), released))
        .as("releasing again without change writes nothing")
        .isEmpty();
  }

  private Path copyWithChange(String file, String from, String to) throws IOException {
    Path dir = work.resolve("avro");
    copyTree(CURRENT, dir);
    String text = Files.readString(dir.resolve(file));
    assertThat(text).contains(from);
    Files.writeString(dir.resolve(file), text.replace(from, to));
    return dir;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : files.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
  }
}
