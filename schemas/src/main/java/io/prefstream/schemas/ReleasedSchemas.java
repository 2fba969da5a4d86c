package io.prefstream.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The released versions of each top-level schema, shipped in this jar as {@code
 * io/prefstream/schemas/released/NAME/vN.avsc} (N = 1, 2, ...). Readers use them to resolve data
 * written by older producers; the compatibility gate checks new schemas against them.
 */
public final class ReleasedSchemas {

  static final String RESOURCE_ROOT = "/io/prefstream/schemas/released/";

  private ReleasedSchemas() {}

  /** A released version of one record's schema. */
  public record Released(String recordName, int version, Schema schema) {}

  /** Released versions of the record with this simple name, oldest first (empty if none). */
  public static List<Released> of(String recordName) {
    List<Released> versions = new ArrayList<>();
    for (int v = 1; ; v++) {
      String path = RESOURCE_ROOT + recordName + "/v" + v + ".avsc";
      try (InputStream in = ReleasedSchemas.class.getResourceAsStream(path)) {
        if (in == null) {
          return versions;
        }
        versions.add(new Released(recordName, v, new Schema.Parser().parse(in)));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read released schema " + path, e);
      }
    }
  }
}
