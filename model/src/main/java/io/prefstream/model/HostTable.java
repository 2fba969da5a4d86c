package io.prefstream.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Optional;

/**
 * A float32 table in host memory, read and written in place from Java: reading or updating a
 * batch's thousand rows this way costs less than the engine ops that would index them. A view is
 * valid only while its array lives: take it for one step, never keep it.
 */
public final class HostTable {

  private HostTable() {}

  /** A view of {@code array}'s memory, when it is float32 in host memory; empty elsewhere (GPU). */
  public static Optional<FloatBuffer> view(NDArray array) {
    if (!Device.Type.CPU.equals(array.getDevice().getDeviceType())
        || array.getDataType() != DataType.FLOAT32) {
      return Optional.empty();
    }
    var bytes = array.toByteBuffer(true);
    if (!bytes.isDirect() || bytes.capacity() != array.size() * Float.BYTES) {
      return Optional.empty(); // a copy, not the array's memory
    }
    return Optional.of(bytes.order(ByteOrder.nativeOrder()).asFloatBuffer());
  }

  /** {@code table}'s {@code rows}, [rows.length, dim] row-major. */
  public static float[] gather(NDArray table, long[] rows, int dim) {
    float[] out = new float[rows.length * dim];
    Optional<FloatBuffer> view = view(table);
    if (view.isPresent()) {
      FloatBuffer t = view.get();
      for (int i = 0; i < rows.length; i++) {
        t.get(Math.toIntExact(rows[i] * dim), out, i * dim, dim);
      }
      return out;
    }
    try (NDManager manager = table.getManager().newSubManager();
        NDArray values = table.get(manager.create(rows))) {
      return values.toFloatArray();
    }
  }
}
