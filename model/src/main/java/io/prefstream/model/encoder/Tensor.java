package io.prefstream.model.encoder;

import java.util.Arrays;

/**
 * One named float tensor read from a weights file, in row-major order, before it becomes a
 * parameter.
 *
 * @param name the Hugging Face parameter name, e.g. {@code
 *     encoder.layer.0.attention.self.query.weight}
 * @param shape dimensions
 * @param values {@code product(shape)} values
 */
public record Tensor(String name, long[] shape, float[] values) {

  public Tensor {
    long size = 1;
    for (long d : shape) {
      size *= d;
    }
    if (size != values.length) {
      throw new IllegalArgumentException(
          "tensor "
              + name
              + " has shape "
              + Arrays.toString(shape)
              + " but "
              + values.length
              + " values");
    }
  }

  /** The shape as Python prints it, e.g. {@code [384, 1536]}. */
  public String shapeText() {
    return Arrays.toString(shape);
  }

  /** This 2-d tensor transposed: ONNX exports store a Linear's weight as [in, out]. */
  public Tensor transposed(String newName) {
    if (shape.length != 2) {
      throw new IllegalArgumentException(
          "only a 2-d tensor transposes, " + name + " is " + shapeText());
    }
    int rows = (int) shape[0];
    int cols = (int) shape[1];
    float[] t = new float[values.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = values[r * cols + c];
      }
    }
    return new Tensor(newName, new long[] {cols, rows}, t);
  }
}
