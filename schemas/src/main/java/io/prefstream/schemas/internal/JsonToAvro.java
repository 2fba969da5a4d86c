package io.prefstream.schemas.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.FieldError.Rule;
import io.prefstream.schemas.JsonFormException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.Schema.Field;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;

/**
 * Reads the JSON form into Avro specific records, walking the schema. One instance reads one
 * document and collects its errors; it throws {@link JsonFormException} if there were any.
 */
public final class JsonToAvro {

  // Parsing is on ingest's hot path: names and constraints are computed once per schema element.
  private static final java.util.concurrent.ConcurrentMap<String, String> BRANCH_NAMES =
      new java.util.concurrent.ConcurrentHashMap<>();
  private static final java.util.concurrent.ConcurrentMap<Field, Constraints> CONSTRAINTS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Field property that marks a union of records written as one field named by its type. */
  public static final String ONE_OF = "one_of";

  private static final int MAX_ERRORS = 20;

  /** Returned in place of a value that broke a rule; never stored in a record. */
  private static final Object INVALID = new Object();

  private final SpecificData model;
  private final String recordName;
  private final List<FieldError> errors = new ArrayList<>();

  public JsonToAvro(SpecificData model, String recordName) {
    this.model = model;
    this.recordName = recordName;
  }

  /** Reads a whole record, or throws with every error found. */
  public Object read(JsonNode node, Schema schema) {
    Object value = record(node, schema, "");
    if (!errors.isEmpty()) {
      throw new JsonFormException(recordName, errors);
    }
    return value;
  }

  /** Fails for schema shapes the JSON form does not define (caught when a form is created). */
  public static void checkSupported(Schema schema) {
    checkSupported(schema, new HashSet<>());
  }

  private static void checkSupported(Schema schema, Set<String> seen) {
    switch (schema.getType()) {
      case RECORD -> {
        if (!seen.add(schema.getFullName())) {
          return;
        }
        for (Field f : schema.getFields()) {
          if (isOneOf(f)) {
            for (Schema branch : f.schema().getTypes()) {
              if (branch.getType() != Schema.Type.RECORD) {
                throw new IllegalStateException(
                    "one_of field " + f.name() + " may only hold records, found " + branch);
              }
              checkSupported(branch, seen);
            }
          } else {
            checkSupported(f.schema(), seen);
          }
        }
      }
      case UNION -> {
        if (schema.getTypes().size() != 2 || !schema.isNullable()) {
          throw new IllegalStateException(
              "The JSON form supports only [null, T] unions (or one_of fields), found " + schema);
        }
        checkSupported(nonNull(schema), seen);
      }
      case ARRAY -> checkSupported(schema.getElementType(), seen);
      case MAP -> checkSupported(schema.getValueType(), seen);
      case FIXED, NULL ->
          throw new IllegalStateException("The JSON form does not support " + schema.getType());
      default -> {}
    }
  }

  static boolean isOneOf(Field f) {
    return ONE_OF.equals(f.getProp("json")) && f.schema().getType() == Schema.Type.UNION;
  }

  /** The JSON name of a one_of branch: its record name in snake_case. */
  static String branchName(Schema branch) {
    return BRANCH_NAMES.computeIfAbsent(
        branch.getName(),
        name -> name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT));
  }

  private Object record(JsonNode node, Schema schema, String path) {
    if (!node.isObject()) {
      return error(orRoot(path), Rule.WRONG_TYPE, "expected a JSON object, found " + kind(node));
    }
    IndexedRecord record = (IndexedRecord) model.newRecord(null, schema);
    Set<String> known = new HashSet<>();
    Field oneOfField = null;
    boolean valid = true;
    for (Field f : schema.getFields()) {
      if (isOneOf(f)) {
        oneOfField = f;
        f.schema().getTypes().forEach(b -> known.add(branchName(b)));
        continue;
      }
      known.add(f.name());
      Object value = field(node.get(f.name()), f, join(path, f.name()));
      if (value == INVALID) {
        valid = false;
      } else {
        record.put(f.pos(), value);
      }
    }
    List<String> unknown = new ArrayList<>();
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!known.contains(name)) {
        unknown.add(name);
      }
    }
    if (oneOfField != null) {
      Object payload = oneOf(node, oneOfField, path, unknown);
      if (payload == INVALID) {
        valid = false;
      } else {
        record.put(oneOfField.pos(), payload);
      }
    }
    for (String name : unknown) {
      error(
          join(path, name),
          Rule.UNKNOWN_FIELD,
          "not a field of " + schema.getName() + "; known fields: " + String.join(", ", known));
    }
    return valid ? record : INVALID;
  }

  /** Reads the payload field; consumes from {@code unknown} the key it reports as a bad payload. */
  private Object oneOf(JsonNode node, Field f, String path, List<String> unknown) {
    List<Schema> present = new ArrayList<>();
    for (Schema branch : f.schema().getTypes()) {
      if (node.has(branchName(branch))) {
        present.add(branch);
      }
    }
    String choices =
        f.schema().getTypes().stream()
            .map(JsonToAvro::branchName)
            .collect(Collectors.joining(", "));
    if (present.isEmpty()) {
      for (Iterator<String> it = unknown.iterator(); it.hasNext(); ) {
        String name = it.next();
        if (node.get(name).isObject()) {
          it.remove();
          return error(
              join(path, name),
              Rule.UNKNOWN_PAYLOAD,
              "'" + name + "' is not a payload type; expected one of " + choices);
        }
      }
      return error(
          join(path, f.name()), Rule.MISSING, "an event needs one payload, one of " + choices);
    }
    if (present.size() > 1) {
      return error(
          join(path, branchName(present.get(1))),
          Rule.TWO_PAYLOADS,
          "found both '"
              + branchName(present.get(0))
              + "' and '"
              + branchName(present.get(1))
              + "'; an event carries exactly one payload");
    }
    Schema branch = present.get(0);
    String name = branchName(branch);
    return record(node.get(name), branch, join(path, name));
  }

  private Object field(JsonNode value, Field f, String path) {
    if (value == null || value.isNull()) {
      if (f.schema().isNullable()) {
        return null;
      }
      if (f.hasDefaultValue()) {
        // Avro caches defaults: copy, so that no two records share a mutable map or list.
        return model.deepCopy(f.schema(), model.getDefaultValue(f));
      }
      return error(path, Rule.MISSING, "required " + describe(f.schema()) + " is missing");
    }
    return value(value, f.schema(), CONSTRAINTS.computeIfAbsent(f, Constraints::of), path);
  }

  private Object value(JsonNode v, Schema s, Constraints c, String path) {
    switch (s.getType()) {
      case UNION:
        return v.isNull() ? null : value(v, nonNull(s), c, path);
      case RECORD:
        return record(v, s, path);
      case ENUM:
        return enumValue(v, s, path);
      case STRING:
        return string(v, c, path);
      case BOOLEAN:
        return v.isBoolean() ? v.booleanValue() : wrongType(path, "a boolean", v);
      case INT:
        return integer(v, s, c, path);
      case LONG:
        return isTimestamp(s) ? timestamp(v, path) : integer(v, s, c, path);
      case FLOAT:
      case DOUBLE:
        return floating(v, s, c, path);
      case BYTES:
        return bytes(v, path);
      case ARRAY:
        return array(v, s, c, path);
      case MAP:
        return map(v, s, path);
      default:
        throw new IllegalStateException("Unsupported schema type " + s.getType());
    }
  }

  private Object enumValue(JsonNode v, Schema s, String path) {
    if (!v.isTextual()) {
      return wrongType(path, "a string, one of " + s.getEnumSymbols(), v);
    }
    String symbol = v.textValue().toUpperCase(Locale.ROOT);
    if (!s.hasEnumSymbol(symbol)) {
      return error(
          path,
          Rule.INVALID_VALUE,
          "'" + v.textValue() + "' is not one of " + String.join(", ", s.getEnumSymbols()));
    }
    return model.createEnum(symbol, s);
  }

  private Object string(JsonNode v, Constraints c, String path) {
    if (!v.isTextual()) {
      return wrongType(path, "a string", v);
    }
    String text = v.textValue();
    if (c.maxLength() != null && text.length() > c.maxLength()) {
      return error(
          path,
          Rule.TOO_LONG,
          "is " + text.length() + " characters, at most " + c.maxLength() + " allowed");
    }
    if (c.minLength() != null && text.length() < c.minLength()) {
      return error(
          path,
          Rule.TOO_SHORT,
          text.isEmpty()
              ? "must not be empty"
              : "is " + text.length() + " characters, at least " + c.minLength() + " needed");
    }
    return text;
  }

  private Object integer(JsonNode v, Schema s, Constraints c, String path) {
    boolean isInt = s.getType() == Schema.Type.INT;
    if (!v.isIntegralNumber()) {
      return wrongType(path, isInt ? "an integer" : "a long integer", v);
    }
    if (isInt ? !v.canConvertToInt() : !v.canConvertToLong()) {
      return error(path, Rule.OUT_OF_RANGE, v.asText() + " does not fit a 32/64-bit integer");
    }
    if (!c.inRange(v.doubleValue())) {
      return error(path, Rule.OUT_OF_RANGE, v.asText() + " is not in " + c.range());
    }
    return isInt ? (Object) v.intValue() : (Object) v.longValue();
  }

  private Object floating(JsonNode v, Schema s, Constraints c, String path) {
    double d;
    if (v.isNumber()) {
      d = v.doubleValue();
    } else if (v.isTextual() && List.of("NaN", "Infinity", "-Infinity").contains(v.textValue())) {
      d = Double.parseDouble(v.textValue());
    } else {
      return wrongType(path, "a number", v);
    }
    if (!c.inRange(d)) {
      return error(path, Rule.OUT_OF_RANGE, v.asText() + " is not in " + c.range());
    }
    return s.getType() == Schema.Type.FLOAT ? (Object) (float) d : (Object) d;
  }

  private Object timestamp(JsonNode v, String path) {
    if (v.isIntegralNumber() && v.canConvertToLong()) {
      return Instant.ofEpochMilli(v.longValue());
    }
    if (v.isTextual()) {
      try {
        return OffsetDateTime.parse(v.textValue()).toInstant();
      } catch (DateTimeParseException e) {
        return error(
            path,
            Rule.INVALID_VALUE,
            "'"
                + v.textValue()
                + "' is not an ISO-8601 time with offset, e.g. 2026-11-23T10:00:00Z");
      }
    }
    return wrongType(path, "an ISO-8601 time string or epoch milliseconds", v);
  }

  private Object bytes(JsonNode v, String path) {
    if (!v.isTextual()) {
      return wrongType(path, "a base64 string", v);
    }
    try {
      return ByteBuffer.wrap(Base64.getDecoder().decode(v.textValue()));
    } catch (IllegalArgumentException e) {
      return error(path, Rule.INVALID_VALUE, "not valid base64: " + e.getMessage());
    }
  }

  private Object array(JsonNode v, Schema s, Constraints c, String path) {
    if (!v.isArray()) {
      return wrongType(path, "an array", v);
    }
    if (c.maxItems() != null && v.size() > c.maxItems()) {
      return error(
          path, Rule.TOO_LONG, "has " + v.size() + " items, at most " + c.maxItems() + " allowed");
    }
    if (c.minItems() != null && v.size() < c.minItems()) {
      return error(
          path, Rule.TOO_SHORT, "has " + v.size() + " items, at least " + c.minItems() + " needed");
    }
    List<Object> items = new ArrayList<>(v.size());
    Constraints itemConstraints = c.forItems();
    boolean valid = true;
    for (int i = 0; i < v.size(); i++) {
      JsonNode item = v.get(i);
      String itemPath = path + "[" + i + "]";
      Object value =
          item.isNull() && !s.getElementType().isNullable()
              ? error(itemPath, Rule.MISSING, "array items must not be null")
              : value(item, s.getElementType(), itemConstraints, itemPath);
      valid &= value != INVALID;
      items.add(value);
    }
    return valid ? items : INVALID;
  }

  private Object map(JsonNode v, Schema s, String path) {
    if (!v.isObject()) {
      return wrongType(path, "an object", v);
    }
    Map<String, Object> map = new LinkedHashMap<>();
    boolean valid = true;
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String entryPath = join(path, e.getKey());
      Object value =
          e.getValue().isNull() && !s.getValueType().isNullable()
              ? error(entryPath, Rule.MISSING, "map values must not be null")
              : value(e.getValue(), s.getValueType(), Constraints.NONE, entryPath);
      valid &= value != INVALID;
      map.put(e.getKey(), value);
    }
    return valid ? map : INVALID;
  }

  private Object wrongType(String path, String expected, JsonNode found) {
    return error(path, Rule.WRONG_TYPE, "expected " + expected + ", found " + kind(found));
  }

  private Object error(String path, Rule rule, String reason) {
    if (errors.size() < MAX_ERRORS) {
      errors.add(new FieldError(path, rule, reason));
    }
    return INVALID;
  }

  static Schema nonNull(Schema union) {
    return union.getTypes().stream()
        .filter(t -> t.getType() != Schema.Type.NULL)
        .findFirst()
        .orElseThrow();
  }

  static boolean isTimestamp(Schema s) {
    LogicalType logical = s.getLogicalType();
    return logical instanceof LogicalTypes.TimestampMillis;
  }

  private static String describe(Schema s) {
    Schema t = s.isUnion() ? nonNull(s) : s;
    if (isTimestamp(t)) {
      return "time";
    }
    return switch (t.getType()) {
      case RECORD -> "object";
      case ENUM -> "value (" + String.join(", ", t.getEnumSymbols()) + ")";
      default -> t.getType().getName();
    };
  }

  private static String kind(JsonNode node) {
    return switch (node.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number (" + node.asText() + ")";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case NULL -> "null";
      default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
    };
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static String orRoot(String path) {
    return path.isEmpty() ? "$" : path;
  }
}
