package io.prefstream.schemas;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.schemas.internal.AvroToJson;
import io.prefstream.schemas.internal.JsonToAvro;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * The JSON form of a prefstream record (DESIGN.md): snake_case field names, optional fields omitted
 * when null, a payload union as one field named by its type ({@code "rating": {...}}), times as
 * ISO-8601 (epoch milliseconds accepted), bytes as base64. Parsing checks types and the constraints
 * declared in the schema ({@code min_length}, {@code max_length}, {@code min}, {@code max}, {@code
 * min_items}, {@code max_items}) and reports every broken rule with its field path.
 */
public final class JsonForm<T extends SpecificRecord> {

  private static final ObjectMapper MAPPER = newMapper();

  private final Class<T> type;
  private final Schema schema;
  private final SpecificData model;

  private JsonForm(Class<T> type) {
    this.type = type;
    this.schema = RecordTypes.schemaOf(type);
    this.model = SpecificData.getForClass(type);
    JsonToAvro.checkSupported(schema);
  }

  public static <T extends SpecificRecord> JsonForm<T> of(Class<T> type) {
    return new JsonForm<>(type);
  }

  /** The shared, strict mapper (duplicate keys refused) used to read and write the JSON form. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  public Class<T> type() {
    return type;
  }

  /** Parses one JSON object. */
  public T parse(String json) {
    JsonNode node;
    try {
      node = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new JsonFormException(
          schema.getName(),
          List.of(new FieldError("$", FieldError.Rule.MALFORMED_JSON, e.getOriginalMessage())));
    }
    if (node == null || node.isMissingNode()) {
      throw new JsonFormException(
          schema.getName(),
          List.of(new FieldError("$", FieldError.Rule.MALFORMED_JSON, "empty document")));
    }
    return parse(node);
  }

  /** Converts an already parsed JSON object. */
  public T parse(JsonNode node) {
    return type.cast(new JsonToAvro(model, schema.getName()).read(node, schema));
  }

  /** The record as a JSON tree. */
  public ObjectNode toJson(T record) {
    return (ObjectNode) new AvroToJson(MAPPER.getNodeFactory()).write(record, schema);
  }

  /** The record as one line of JSON. */
  public String print(T record) {
    try {
      return MAPPER.writeValueAsString(toJson(record));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot print " + schema.getName() + " as JSON", e);
    }
  }

  private static ObjectMapper newMapper() {
    ObjectMapper mapper = new ObjectMapper();
    mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(64).maxStringLength(16 << 20).build());
    return mapper;
  }
}
