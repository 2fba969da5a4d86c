package io.prefstream.schemas.internal;

import io.prefstream.schemas.RecordTypes;
import io.prefstream.schemas.ReleasedSchemas;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Avro single-object encoding (marker {@code C3 01}, the writer schema's 8-byte little-endian
 * CRC-64-AVRO fingerprint, then the binary body) of one record type. Data written with any released
 * or the current schema is read into the current class; anything else is a {@link
 * SerializationException} that names the topic and the fingerprint.
 */
public final class SingleObjectCodec<T extends SpecificRecord> {

  private static final byte MARKER_0 = (byte) 0xC3;
  private static final byte MARKER_1 = 0x01;
  private static final int HEADER_SIZE = 10;

  private final Schema schema;
  private final SpecificData model;
  private final byte[] header;
  private final SpecificDatumWriter<T> writer;

  /** Writer schemas by fingerprint, with a label such as "v1" or "current" for error messages. */
  private final Map<Long, Schema> writerSchemas = new LinkedHashMap<>();

  private final Map<Long, String> labels = new LinkedHashMap<>();
  private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();

  public SingleObjectCodec(Class<T> type) {
    this.schema = RecordTypes.schemaOf(type);
    this.model = SpecificData.getForClass(type);
    this.writer = new SpecificDatumWriter<>(schema, model);
    long fingerprint = SchemaNormalization.parsingFingerprint64(schema);
    this.header = headerFor(fingerprint);
    for (ReleasedSchemas.Released released : ReleasedSchemas.of(schema.getName())) {
      addWriterSchema(released.schema(), "v" + released.version());
    }
    addWriterSchema(schema, "current");
  }

  /** Accepts data written with {@code writerSchema} as well (e.g. a schema not yet released). */
  public void addWriterSchema(Schema writerSchema, String label) {
    long fingerprint = SchemaNormalization.parsingFingerprint64(writerSchema);
    writerSchemas.putIfAbsent(fingerprint, writerSchema);
    labels.merge(fingerprint, label, (a, b) -> a + "=" + b);
  }

  public Schema schema() {
    return schema;
  }

  public byte[] encode(T record, String topic) {
    Buffer buffer = BUFFER.get();
    ByteArrayOutputStream out = buffer.start();
    out.writeBytes(header);
    try {
      buffer.encoder = EncoderFactory.get().directBinaryEncoder(out, buffer.encoder);
      writer.write(record, buffer.encoder);
      buffer.encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "Cannot serialize "
              + schema.getName()
              + " for topic '"
              + topic
              + "': "
              + describe(e)
              + " (is a required field null?)",
          e);
    }
    return out.toByteArray();
  }

  /**
   * A per-thread output buffer and encoder: encoding a record then costs one copy of its bytes
   * instead of a buffer grown step by step (pairs carry kilobytes of text).
   */
  private static final class Buffer {
    private static final int KEEP_BYTES = 1 << 20;
    private ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    private BinaryEncoder encoder;

    ByteArrayOutputStream start() {
      if (out.size() > KEEP_BYTES) {
        out = new ByteArrayOutputStream(4096);
      }
      out.reset();
      return out;
    }
  }

  private static final ThreadLocal<Buffer> BUFFER = ThreadLocal.withInitial(Buffer::new);

  public T decode(byte[] data, String topic) {
    if (data.length < HEADER_SIZE) {
      throw new SerializationException(
          String.format(
              "Cannot deserialize %s from topic '%s': %d bytes is shorter than the %d-byte"
                  + " Avro single-object header",
              schema.getName(), topic, data.length, HEADER_SIZE));
    }
    if (data[0] != MARKER_0 || data[1] != MARKER_1) {
      throw new SerializationException(
          String.format(
              "Cannot deserialize %s from topic '%s': not Avro single-object encoding"
                  + " (expected marker C3 01, found %02X %02X%s)",
              schema.getName(),
              topic,
              data[0],
              data[1],
              data[0] == '{' || data[0] == '[' ? "; the bytes look like JSON" : ""));
    }
    long fingerprint = ByteBuffer.wrap(data, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    Schema writerSchema = writerSchemas.get(fingerprint);
    if (writerSchema == null) {
      throw new SerializationException(
          String.format(
              "Cannot deserialize %s from topic '%s': unknown schema fingerprint %s;"
                  + " known fingerprints: %s. Was it written by a newer release, or another"
                  + " record type?",
              schema.getName(), topic, hex(fingerprint), knownFingerprints()));
    }
    DatumReader<T> reader =
        readers.computeIfAbsent(
            fingerprint, f -> new SpecificDatumReader<>(writerSchema, schema, model));
    try {
      BinaryDecoder decoder =
          DecoderFactory.get().binaryDecoder(data, HEADER_SIZE, data.length - HEADER_SIZE, null);
      T record = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new IOException("trailing bytes after the record");
      }
      return record;
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          String.format(
              "Cannot deserialize %s from topic '%s': corrupt body for schema fingerprint %s"
                  + " (%s, %d bytes): %s",
              schema.getName(),
              topic,
              hex(fingerprint),
              labels.get(fingerprint),
              data.length,
              describe(e)),
          e);
    }
  }

  private String knownFingerprints() {
    return labels.entrySet().stream()
        .map(e -> hex(e.getKey()) + " (" + schema.getName() + " " + e.getValue() + ")")
        .collect(Collectors.joining(", "));
  }

  static String hex(long fingerprint) {
    return String.format("%016x", fingerprint);
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.toString();
  }

  private static byte[] headerFor(long fingerprint) {
    ByteBuffer buffer = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    buffer.put(MARKER_0).put(MARKER_1).putLong(fingerprint);
    return buffer.array();
  }
}
