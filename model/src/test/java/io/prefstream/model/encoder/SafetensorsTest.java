package io.prefstream.model.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafetensorsTest {

  /** A file with one tensor of the given dtype and raw little-endian data. */
  static byte[] file(String name, String dtype, long[] shape, byte[] data) throws Exception {
    String header =
        String.format(
            "{\"__metadata__\":{\"format\":\"pt\"},\"%s\":{\"dtype\":\"%s\",\"shape\":%s,"
                + "\"data_offsets\":[0,%d]}}",
            name, dtype, java.util.Arrays.toString(shape), data.length);
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
    out.write(h);
    out.write(data);
    return out.toByteArray();
  }

  @Test
  void bfloat16AndHalfTensorsReadAsFloats() throws Exception {
    float[] values = {1.0f, -2.5f, 0.15625f, 65504f, 0f, -0f};
    ByteBuffer bf16 = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bf16.putShort((short) (Float.floatToIntBits(v) >>> 16));
    }
    Map<String, Tensor> read =
        Safetensors.read(file("w", "BF16", new long[] {2, 3}, bf16.array()), "bf16 file");
    assertThat(read.get("w").shape()).containsExactly(2, 3);
    assertThat(read.get("w").values()).containsExactly(1.0f, -2.5f, 0.15625f, 65280f, 0f, -0f);
    // binary16: 1.0 = 0x3c00, -2.5 = 0xc100, 0.15625 = 0x3100, 65504 = 0x7bff, 2^-24 = 0x0001
    short[] halves = {0x3c00, (short) 0xc100, 0x3100, 0x7bff, 0x0001, (short) 0xfc00};
    ByteBuffer f16 = ByteBuffer.allocate(halves.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short h : halves) {
      f16.putShort(h);
    }
    read = Safetensors.read(file("h", "F16", new long[] {6}, f16.array()), "f16 file");
    assertThat(read.get("h").values())
        .containsExactly(1.0f, -2.5f, 0.15625f, 65504f, 0x1p-24f, Float.NEGATIVE_INFINITY);
  }

  @Test
  void writtenTensorsReadBackExactlyAndIntegerTensorsAreSkipped() throws Exception {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      Tensor a = new Tensor("a.weight", new long[] {2, 2}, new float[] {1, 2, 3, 4});
      Tensor b = new Tensor("b.bias", new long[] {3}, new float[] {-1, 0.5f, 7});
      Map<String, Tensor> read = Safetensors.read(Safetensors.write(List.of(a, b), m), "written");
      assertThat(read.keySet()).containsExactlyInAnyOrder("a.weight", "b.bias");
      assertThat(read.get("a.weight").values()).containsExactly(1, 2, 3, 4);
      assertThat(read.get("b.bias").shape()).containsExactly(3);
    }
    byte[] ints = file("position_ids", "I64", new long[] {1, 2}, new byte[16]);
    assertThat(Safetensors.read(ints, "ints")).isEmpty();
  }

  @Test
  void aTensorWhoseSizeDoesNotFitItsShapeIsRefused() throws Exception {
    byte[] bad = file("w", "F32", new long[] {2, 3}, new byte[20]);
    assertThatThrownBy(() -> Safetensors.read(bad, "model.safetensors"))
        .hasMessageContaining("model.safetensors")
        .hasMessageContaining("tensor w is F32 of shape [2, 3] (24 bytes) but spans 20 bytes");
    byte[] odd = file("w", "Q4", new long[] {1}, new byte[1]);
    assertThatThrownBy(() -> Safetensors.read(odd, "model.safetensors"))
        .hasMessageContaining("dtype 'Q4'");
  }
}
