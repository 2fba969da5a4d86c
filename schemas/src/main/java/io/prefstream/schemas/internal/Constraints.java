package io.prefstream.schemas.internal;

import org.apache.avro.Schema.Field;

/** The value constraints a schema field declares as properties (see schemas/README.md). */
record Constraints(
    Integer minLength,
    Integer maxLength,
    Double min,
    Double max,
    Integer minItems,
    Integer maxItems,
    Integer itemMinLength,
    Integer itemMaxLength) {

  static final Constraints NONE = new Constraints(null, null, null, null, null, null, null, null);

  static Constraints of(Field f) {
    return new Constraints(
        integer(f, "min_length"),
        integer(f, "max_length"),
        number(f, "min"),
        number(f, "max"),
        integer(f, "min_items"),
        integer(f, "max_items"),
        integer(f, "item_min_length"),
        integer(f, "item_max_length"));
  }

  /** The constraints that apply to each item of an array field. */
  Constraints forItems() {
    return new Constraints(itemMinLength, itemMaxLength, null, null, null, null, null, null);
  }

  boolean inRange(double value) {
    if (min == null && max == null) {
      return true;
    }
    return !Double.isNaN(value) && (min == null || value >= min) && (max == null || value <= max);
  }

  String range() {
    return "[" + (min == null ? "-inf" : fmt(min)) + ", " + (max == null ? "+inf" : fmt(max)) + "]";
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static Integer integer(Field f, String prop) {
    Object value = f.getObjectProp(prop);
    return value instanceof Number n ? n.intValue() : null;
  }

  private static Double number(Field f, String prop) {
    Object value = f.getObjectProp(prop);
    return value instanceof Number n ? n.doubleValue() : null;
  }
}
