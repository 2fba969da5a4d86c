package io.prefstream.schemas.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.Schema.Field;
import org.apache.avro.generic.IndexedRecord;

/** Writes Avro specific records in the JSON form, walking the schema. */
public final class AvroToJson {

  private final JsonNodeFactory nodes;

  public AvroToJson(JsonNodeFactory nodes) {
    this.nodes = nodes;
  }

  public JsonNode write(Object value, Schema s) {
    if (value == null) {
      return nodes.nullNode();
    }
    return switch (s.getType()) {
      case UNION -> write(value, JsonToAvro.nonNull(s));
      case RECORD -> record((IndexedRecord) value, s);
      case ENUM, STRING -> nodes.textNode(value.toString());
      case BOOLEAN -> nodes.booleanNode((Boolean) value);
      case INT -> nodes.numberNode((Integer) value);
      case LONG ->
          JsonToAvro.isTimestamp(s)
              ? nodes.textNode(((Instant) value).toString())
              : nodes.numberNode((Long) value);
      case FLOAT, DOUBLE -> floating(((Number) value).doubleValue());
      case BYTES -> nodes.textNode(base64((ByteBuffer) value));
      case ARRAY -> array((Collection<?>) value, s.getElementType());
      case MAP -> map((Map<?, ?>) value, s.getValueType());
      default -> throw new IllegalStateException("Unsupported schema type " + s.getType());
    };
  }

  private ObjectNode record(IndexedRecord record, Schema s) {
    ObjectNode node = nodes.objectNode();
    for (Field f : s.getFields()) {
      Object value = record.get(f.pos());
      if (value == null) {
        continue;
      }
      if (JsonToAvro.isOneOf(f)) {
        Schema branch = ((IndexedRecord) value).getSchema();
        node.set(JsonToAvro.branchName(branch), record((IndexedRecord) value, branch));
      } else {
        node.set(f.name(), write(value, f.schema()));
      }
    }
    return node;
  }

  private JsonNode floating(double d) {
    return Double.isFinite(d) ? nodes.numberNode(d) : nodes.textNode(Double.toString(d));
  }

  private ArrayNode array(Collection<?> items, Schema itemSchema) {
    ArrayNode node = nodes.arrayNode(items.size());
    items.forEach(item -> node.add(write(item, itemSchema)));
    return node;
  }

  private ObjectNode map(Map<?, ?> map, Schema valueSchema) {
    ObjectNode node = nodes.objectNode();
    map.forEach((k, v) -> node.set(k.toString(), write(v, valueSchema)));
    return node;
  }

  private static String base64(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }
}
