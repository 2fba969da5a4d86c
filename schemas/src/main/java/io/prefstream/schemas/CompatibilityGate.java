package io.prefstream.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaNormalization;

/**
 * The build's schema compatibility gate: each top-level schema in {@code src/main/avro} must be
 * backward compatible (it can read data written with every released version) and forward compatible
 * (every released version can read data it writes) with its released versions in {@code
 * src/main/avro-released/NAME/vN.avsc}. Run by Maven in {@code process-classes}; {@code --release}
 * writes the current schemas as new released versions where they changed.
 */
public final class CompatibilityGate {

  private CompatibilityGate() {}

  /** One top-level schema that breaks compatibility with one released version. */
  public record Violation(String recordName, int releasedVersion, String direction, String detail) {
    @Override
    public String toString() {
      return recordName + " vs released v" + releasedVersion + " (" + direction + "): " + detail;
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: CompatibilityGate CURRENT_DIR RELEASED_DIR [--release]");
      System.exit(2);
    }
    Map<String, Schema> current = topLevelSchemas(Path.of(args[0]));
    Path releasedDir = Path.of(args[1]);
    if (args.length > 2 && args[2].equals("--release")) {
      release(current, releasedDir).forEach(p -> System.out.println("released " + p));
      return;
    }
    List<Violation> violations = check(current, releasedDir);
    if (!violations.isEmpty()) {
      StringBuilder message =
          new StringBuilder("Schema compatibility gate failed: ")
              .append(violations.size())
              .append(" incompatible change(s). New fields need defaults; removed fields")
              .append(" must have had defaults; types may only be promoted.\n");
      violations.forEach(v -> message.append("  - ").append(v).append('\n'));
      throw new IllegalStateException(message.toString());
    }
    System.out.println(
        "Schema compatibility gate: " + current.size() + " schemas compatible with releases");
  }

  /** Checks the current schemas against every released version; empty means compatible. */
  public static List<Violation> check(Map<String, Schema> current, Path releasedDir) {
    List<Violation> violations = new ArrayList<>();
    for (Map.Entry<String, Schema> entry : current.entrySet()) {
      for (Map.Entry<Integer, Schema> released :
          releasedVersions(releasedDir, entry.getKey()).entrySet()) {
        Schema now = entry.getValue();
        Schema then = released.getValue();
        compare(now, then, "backward: current reads v" + released.getKey() + " data")
            .forEach(
                d ->
                    violations.add(
                        new Violation(entry.getKey(), released.getKey(), "backward", d)));
        compare(then, now, "forward: v" + released.getKey() + " reads current data")
            .forEach(
                d ->
                    violations.add(new Violation(entry.getKey(), released.getKey(), "forward", d)));
      }
    }
    return violations;
  }

  private static List<String> compare(Schema reader, Schema writer, String what) {
    SchemaCompatibility.SchemaPairCompatibility result =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    if (result.getType() == SchemaCompatibilityType.COMPATIBLE) {
      return List.of();
    }
    return result.getResult().getIncompatibilities().stream()
        .map(i -> describe(i) + " [" + what + "]")
        .toList();
  }

  private static String describe(Incompatibility i) {
    return i.getType() + " at " + i.getLocation() + ": " + i.getMessage();
  }

  /** Writes each current schema that differs from its latest release as the next version. */
  public static List<Path> release(Map<String, Schema> current, Path releasedDir)
      throws IOException {
    List<Path> written = new ArrayList<>();
    for (Map.Entry<String, Schema> entry : current.entrySet()) {
      TreeMap<Integer, Schema> versions = releasedVersions(releasedDir, entry.getKey());
      Schema now = entry.getValue();
      if (!versions.isEmpty()
          && SchemaNormalization.parsingFingerprint64(versions.lastEntry().getValue())
              == SchemaNormalization.parsingFingerprint64(now)) {
        continue;
      }
      int next = versions.isEmpty() ? 1 : versions.lastKey() + 1;
      Path file = releasedDir.resolve(entry.getKey()).resolve("v" + next + ".avsc");
      Files.createDirectories(file.getParent());
      Files.writeString(file, now.toString(true) + "\n");
      written.add(file);
    }
    return written;
  }

  /** The top-level schemas (see {@link RecordTypes}) parsed from a directory of .avsc files. */
  public static Map<String, Schema> topLevelSchemas(Path avscDir) throws IOException {
    Schema.Parser parser = new Schema.Parser();
    List<Path> files;
    try (Stream<Path> s = Files.list(avscDir)) {
      files =
          s.filter(p -> p.toString().endsWith(".avsc"))
              .sorted(CompatibilityGate::importsFirst)
              .toList();
    }
    for (Path file : files) {
      parser.parse(file.toFile());
    }
    Map<String, Schema> top = new TreeMap<>();
    for (Class<?> type : RecordTypes.ALL) {
      Schema schema = parser.getTypes().get(type.getName());
      if (schema == null) {
        throw new IllegalStateException("No schema for " + type.getName() + " in " + avscDir);
      }
      top.put(schema.getName(), schema);
    }
    return top;
  }

  private static int importsFirst(Path a, Path b) {
    // Shared types (Annotator) are parsed before the records that refer to them.
    boolean aShared = a.getFileName().toString().equals("Annotator.avsc");
    boolean bShared = b.getFileName().toString().equals("Annotator.avsc");
    return aShared == bShared ? a.compareTo(b) : aShared ? -1 : 1;
  }

  private static TreeMap<Integer, Schema> releasedVersions(Path releasedDir, String recordName) {
    TreeMap<Integer, Schema> versions = new TreeMap<>();
    Path dir = releasedDir.resolve(recordName);
    if (!Files.isDirectory(dir)) {
      return versions;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path file : s.toList()) {
        String name = file.getFileName().toString();
        if (name.matches("v\\d+\\.avsc")) {
          versions.put(
              Integer.parseInt(name.substring(1, name.length() - 5)),
              new Schema.Parser().parse(file.toFile()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read released schemas in " + dir, e);
    }
    return versions;
  }
}
