package io.prefstream.model.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header of
 * {@code name: {dtype, shape, data_offsets}}, then the data) through DJL's {@link NDList#decode}
 * and {@link NDList#encode}. DJL decodes whatever it is given; this class first checks the header
 * against the file (length, JSON, offsets inside the data, sizes that fit dtype and shape) so that
 * a truncated or corrupted file is refused with the file and the tensor named, and converts F16,
 * BF16 and F64 tensors to float32.
 */
public final class Safetensors {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, Integer> DTYPE_BYTES =
      Map.of(
          "F32", 4, "F16", 2, "BF16", 2, "F64", 8, "I64", 8, "I32", 4, "I8", 1, "U8", 1, "BOOL", 1);

  private Safetensors() {}

  /**
   * The float tensors of a safetensors file, by name, as float32 (integer tensors such as {@code
   * position_ids} are skipped). Decoded here rather than by {@link NDList#decode}: DJL 0.36's
   * PyTorch engine aborts the JVM on a BF16 array (its native type table stops before bfloat16),
   * and BF16 is how most current checkpoints are saved.
   *
   * @param source named in errors (the file)
   * @throws IOException naming the source and what is wrong with it
   */
  public static Map<String, Tensor> read(byte[] bytes, String source) throws IOException {
    Map<String, Entry> entries = check(bytes, source);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Entry e : entries.values()) {
      float[] values = floats(bytes, e);
      if (values != null) {
        tensors.put(e.name(), new Tensor(e.name(), e.shape(), values));
      }
    }
    return tensors;
  }

  /** One tensor as the header describes it; {@code begin} is an absolute offset in the file. */
  record Entry(String name, String dtype, long[] shape, int begin, int count) {}

  private static float[] floats(byte[] bytes, Entry e) {
    ByteBuffer data = ByteBuffer.wrap(bytes, e.begin(), bytes.length - e.begin()).slice();
    data.order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[e.count()];
    switch (e.dtype()) {
      case "F32" -> data.asFloatBuffer().get(out);
      case "F64" -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = (float) data.getDouble(i * 8);
        }
      }
      case "BF16" -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Float.intBitsToFloat((data.getShort(i * 2) & 0xffff) << 16);
        }
      }
      case "F16" -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = halfToFloat(data.getShort(i * 2));
        }
      }
      default -> {
        return null;
      }
    }
    return out;
  }

  /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // inf, NaN
    }
    if (exponent == 0) {
      float value = mantissa * 0x1p-24f; // subnormal (or zero)
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** Writes tensors (float32) as a safetensors file, in the given order. */
  public static byte[] write(List<Tensor> tensors, NDManager manager) throws IOException {
    try (NDManager scope = manager.newSubManager()) {
      NDList list = new NDList(tensors.size());
      for (Tensor t : tensors) {
        NDArray a = scope.create(t.values(), new ai.djl.ndarray.types.Shape(t.shape()));
        a.setName(t.name());
        list.add(a);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      list.encode(out, NDList.Encoding.SAFETENSORS);
      return out.toByteArray();
    }
  }

  /** Checks the header against the data; every tensor's entry by name, in the header's order. */
  static Map<String, Entry> check(byte[] bytes, String source) throws IOException {
    if (bytes.length < 10) {
      throw new IOException(source + " is not a safetensors file: " + bytes.length + " bytes");
    }
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength <= 0 || headerLength > bytes.length - 8L) {
      throw new IOException(
          source
              + " has a corrupt safetensors header: it declares "
              + headerLength
              + " header bytes, the file has "
              + (bytes.length - 8)
              + " after the length");
    }
    JsonNode header;
    try {
      header =
          JSON.readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      throw new IOException(
          source + " has a corrupt safetensors header (not JSON): " + e.getMessage(), e);
    }
    if (header == null || !header.isObject()) {
      throw new IOException(source + " has a corrupt safetensors header (not a JSON object)");
    }
    long data = bytes.length - 8 - headerLength;
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      String name = e.getKey();
      JsonNode t = e.getValue();
      String dtype = t.path("dtype").asText("");
      Integer size = DTYPE_BYTES.get(dtype);
      if (size == null) {
        throw new IOException(
            source
                + ": tensor "
                + name
                + " has dtype '"
                + dtype
                + "', not one of "
                + DTYPE_BYTES.keySet());
      }
      JsonNode shapeNode = t.path("shape");
      JsonNode offsets = t.path("data_offsets");
      if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
        throw new IOException(source + ": tensor " + name + " has no shape or data_offsets");
      }
      long[] shape = new long[shapeNode.size()];
      long count = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeNode.get(i).asLong(-1);
        if (shape[i] < 0) {
          throw new IOException(source + ": tensor " + name + " has a negative dimension");
        }
        count *= shape[i];
      }
      long begin = offsets.get(0).asLong(-1);
      long end = offsets.get(1).asLong(-1);
      if (begin < 0 || end < begin || end > data) {
        throw new IOException(
            String.format(
                "%s: tensor %s lies at bytes [%d, %d) of the data, which has %d bytes"
                    + " (truncated or corrupt)",
                source, name, begin, end, data));
      }
      if (end - begin != count * size) {
        throw new IOException(
            String.format(
                "%s: tensor %s is %s of shape %s (%d bytes) but spans %d bytes",
                source, name, dtype, java.util.Arrays.toString(shape), count * size, end - begin));
      }
      if (count > Integer.MAX_VALUE || 8 + headerLength + end > Integer.MAX_VALUE) {
        throw new IOException(source + ": tensor " + name + " is too large for one array");
      }
      entries.put(
          name, new Entry(name, dtype, shape, (int) (8 + headerLength + begin), (int) count));
    }
    return entries;
  }
}
