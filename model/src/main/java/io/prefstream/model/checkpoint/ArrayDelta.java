package io.prefstream.model.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.prefstream.model.HostTable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What changed in a list of float arrays (a model's parameters, or an optimizer's moments) since a
 * checkpoint: an array whose rows were tracked is written as those rows only (the n-gram table rows
 * a sparse update touched), every other array whole. Applying it to the arrays as they were at that
 * checkpoint gives them as they are now, bit for bit. The format: a magic, the array count, then
 * per array a kind byte (0 absent, 1 whole, 2 rows), its element count, and its values (rows: the
 * row width, the row count, the row indices, then the rows' values).
 */
public final class ArrayDelta {

  private static final int MAGIC = 0x50534431; // "PSD1"
  private static final byte ABSENT = 0;
  private static final byte WHOLE = 1;
  private static final byte ROWS = 2;

  private ArrayDelta() {}

  /**
   * Writes {@code arrays} (null: absent), each array at index i whose tracked rows {@code
   * rows.get(i)} holds as those rows of width {@code widths.get(i)} only.
   */
  public static void write(
      DataOutputStream out,
      List<NDArray> arrays,
      Map<Integer, BitSet> rows,
      Map<Integer, Integer> widths)
      throws IOException {
    out.writeInt(MAGIC);
    out.writeInt(arrays.size());
    for (int i = 0; i < arrays.size(); i++) {
      NDArray a = arrays.get(i);
      if (a == null) {
        out.writeByte(ABSENT);
        continue;
      }
      BitSet touched = rows.get(i);
      if (touched == null) {
        out.writeByte(WHOLE);
        float[] values = floats(a);
        out.writeLong(values.length);
        writeFloats(out, values, 0, values.length);
        continue;
      }
      int dim = widths.get(i);
      out.writeByte(ROWS);
      out.writeLong(a.size());
      out.writeInt(dim);
      long[] indices = touched.stream().mapToLong(r -> r).toArray();
      out.writeInt(indices.length);
      for (long r : indices) {
        out.writeLong(r);
      }
      float[] values = HostTable.gather(a, indices, dim);
      writeFloats(out, values, 0, values.length);
    }
    out.flush();
  }

  /**
   * Applies a delta to {@code arrays} in place (null where the delta says absent; an array present
   * in the delta but null here is an error).
   *
   * @return how many arrays it rewrote whole and how many rows it wrote
   */
  public static Applied apply(DataInputStream in, List<NDArray> arrays) throws IOException {
    if (in.readInt() != MAGIC) {
      throw new IOException("not a prefstream array delta");
    }
    int n = in.readInt();
    if (n != arrays.size()) {
      throw new IOException("the delta holds " + n + " arrays, the model has " + arrays.size());
    }
    int whole = 0;
    long rowsWritten = 0;
    for (int i = 0; i < n; i++) {
      byte kind = in.readByte();
      if (kind == ABSENT) {
        continue;
      }
      NDArray a = arrays.get(i);
      long size = in.readLong();
      if (a == null || a.size() != size) {
        throw new IOException(
            "array "
                + i
                + " of the delta holds "
                + size
                + " values, the model's "
                + (a == null ? "none" : a.size()));
      }
      if (kind == WHOLE) {
        float[] values = readFloats(in, Math.toIntExact(size));
        set(a, values);
        whole++;
      } else if (kind == ROWS) {
        int dim = in.readInt();
        int count = in.readInt();
        long[] indices = new long[count];
        for (int r = 0; r < count; r++) {
          indices[r] = in.readLong();
          if (indices[r] < 0 || (indices[r] + 1) * dim > size) {
            throw new IOException("row " + indices[r] + " lies outside array " + i);
          }
        }
        float[] values = readFloats(in, count * dim);
        setRows(a, indices, dim, values);
        rowsWritten += count;
      } else {
        throw new IOException("unknown array kind " + kind + " in a delta");
      }
    }
    return new Applied(whole, rowsWritten);
  }

  /** What applying a delta wrote. */
  public record Applied(int wholeArrays, long rows) {}

  private static float[] floats(NDArray a) {
    return a.getDataType() == DataType.FLOAT32
        ? a.toFloatArray()
        : a.toType(DataType.FLOAT32, false).toFloatArray();
  }

  private static void set(NDArray a, float[] values) {
    if (a.getDataType() == DataType.FLOAT32) {
      a.set(FloatBuffer.wrap(values));
      return;
    }
    try (NDManager scope = a.getManager().newSubManager()) {
      a.set(scope.create(values, a.getShape()).toType(a.getDataType(), false).toByteBuffer());
    }
  }

  private static void setRows(NDArray a, long[] rows, int dim, float[] values) {
    Optional<FloatBuffer> view = HostTable.view(a);
    if (view.isPresent()) {
      FloatBuffer t = view.get();
      for (int r = 0; r < rows.length; r++) {
        t.put(Math.toIntExact(rows[r] * dim), values, r * dim, dim);
      }
      return;
    }
    float[] all = floats(a); // elsewhere than host memory: rewrite it whole
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(values, r * dim, all, Math.toIntExact(rows[r] * dim), dim);
    }
    set(a, all);
  }

  private static void writeFloats(DataOutputStream out, float[] values, int from, int to)
      throws IOException {
    byte[] buffer = new byte[Math.min(1 << 16, (to - from) * Float.BYTES)];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buffer);
    int i = from;
    while (i < to) {
      b.clear();
      int chunk = Math.min(buffer.length / Float.BYTES, to - i);
      b.asFloatBuffer().put(values, i, chunk);
      out.write(buffer, 0, chunk * Float.BYTES);
      i += chunk;
    }
  }

  private static float[] readFloats(DataInputStream in, int count) throws IOException {
    float[] values = new float[count];
    byte[] buffer = new byte[Math.min(1 << 16, Math.max(4, count * Float.BYTES))];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buffer);
    int i = 0;
    while (i < count) {
      int chunk = Math.min(buffer.length / Float.BYTES, count - i);
      in.readFully(buffer, 0, chunk * Float.BYTES);
      b.clear();
      b.asFloatBuffer().get(values, i, chunk);
      i += chunk;
    }
    return values;
  }
}
