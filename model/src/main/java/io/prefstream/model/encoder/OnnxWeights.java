package io.prefstream.model.encoder;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the weights of a PyTorch ONNX export of a BERT-family encoder: the float initializers of
 * its graph, by Hugging Face parameter name. Named initializers keep their names; anonymous ones
 * ({@code onnx::MatMul_787}) are named by the node that consumes them ({@code
 * /encoder/layer.0/attention/self/query/MatMul} gives {@code
 * encoder.layer.0.attention.self.query.weight}, transposed back from the [in, out] layout MatMul
 * takes to a Linear's [out, in]). The file is walked with protobuf-java's wire reader over the few
 * fields of onnx.proto it needs, so no generated classes are involved.
 */
public final class OnnxWeights {

  // onnx.proto field numbers
  private static final int MODEL_GRAPH = 7;
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int NODE_INPUT = 1;
  private static final int NODE_NAME = 3;
  private static final int NODE_OP_TYPE = 4;
  private static final int TENSOR_DIMS = 1;
  private static final int TENSOR_DATA_TYPE = 2;
  private static final int TENSOR_FLOAT_DATA = 4;
  private static final int TENSOR_NAME = 8;
  private static final int TENSOR_RAW_DATA = 9;
  private static final int TENSOR_DATA_LOCATION = 14;
  private static final int FLOAT = 1;
  private static final int EXTERNAL = 1;

  private OnnxWeights() {}

  /**
   * The float tensors of an ONNX model, by Hugging Face name, in the file's order.
   *
   * @param source named in errors
   */
  public static Map<String, Tensor> read(byte[] model, String source) throws IOException {
    ByteBuffer graph = null;
    CodedInputStream in = reader(ByteBuffer.wrap(model));
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (WireFormat.getTagFieldNumber(tag) == MODEL_GRAPH) {
        graph = in.readByteBuffer();
      } else {
        in.skipField(tag);
      }
    }
    if (graph == null) {
      throw new IOException(source + " is not an ONNX model: it has no graph");
    }
    List<Initializer> initializers = new ArrayList<>();
    Map<String, List<Node>> consumers = new HashMap<>();
    in = reader(graph);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case GRAPH_NODE -> {
          Node node = node(in.readByteBuffer());
          for (String input : node.inputs()) {
            consumers.computeIfAbsent(input, k -> new ArrayList<>()).add(node);
          }
        }
        case GRAPH_INITIALIZER -> initializers.add(initializer(in.readByteBuffer(), source));
        default -> in.skipField(tag);
      }
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Initializer init : initializers) {
      if (init.dataType() != FLOAT) {
        continue; // position_ids and other integer constants
      }
      Tensor t = init.tensor();
      if (init.name().startsWith("onnx::")) {
        t = named(t, consumers.getOrDefault(init.name(), List.of()));
      }
      tensors.put(t.name(), t);
    }
    return tensors;
  }

  /** An anonymous initializer named by the MatMul or Add node that consumes it. */
  private static Tensor named(Tensor t, List<Node> nodes) {
    if (nodes.size() != 1) {
      return t;
    }
    Node node = nodes.get(0);
    String module = module(node.name());
    if (module == null) {
      return t;
    }
    return switch (node.opType()) {
      case "MatMul" -> t.shape().length == 2 ? t.transposed(module + ".weight") : t;
      case "Add" -> new Tensor(module + ".bias", t.shape(), t.values());
      default -> t;
    };
  }

  /**
   * {@code /encoder/layer.0/attention/self/query/MatMul} → {@code
   * encoder.layer.0.attention.self.query}.
   */
  private static String module(String nodeName) {
    if (nodeName == null || !nodeName.startsWith("/")) {
      return null;
    }
    int last = nodeName.lastIndexOf('/');
    if (last <= 0) {
      return null;
    }
    return nodeName.substring(1, last).replace('/', '.');
  }

  private record Node(String name, String opType, List<String> inputs) {}

  private record Initializer(String name, int dataType, Tensor tensor) {}

  private static Node node(ByteBuffer bytes) throws IOException {
    String name = null;
    String op = null;
    List<String> inputs = new ArrayList<>();
    CodedInputStream in = reader(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case NODE_INPUT -> inputs.add(in.readStringRequireUtf8());
        case NODE_NAME -> name = in.readStringRequireUtf8();
        case NODE_OP_TYPE -> op = in.readStringRequireUtf8();
        default -> in.skipField(tag);
      }
    }
    return new Node(name, op, inputs);
  }

  private static Initializer initializer(ByteBuffer bytes, String source) throws IOException {
    List<Long> dims = new ArrayList<>();
    int dataType = 0;
    String name = null;
    ByteBuffer raw = null;
    List<Float> floats = new ArrayList<>();
    boolean external = false;
    CodedInputStream in = reader(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      int field = WireFormat.getTagFieldNumber(tag);
      boolean packed = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
      switch (field) {
        case TENSOR_DIMS -> {
          if (packed) {
            int limit = in.pushLimit(in.readRawVarint32());
            while (in.getBytesUntilLimit() > 0) {
              dims.add(in.readInt64());
            }
            in.popLimit(limit);
          } else {
            dims.add(in.readInt64());
          }
        }
        case TENSOR_DATA_TYPE -> dataType = in.readInt32();
        case TENSOR_NAME -> name = in.readStringRequireUtf8();
        case TENSOR_RAW_DATA -> raw = in.readByteBuffer();
        case TENSOR_FLOAT_DATA -> {
          if (packed) {
            int limit = in.pushLimit(in.readRawVarint32());
            while (in.getBytesUntilLimit() > 0) {
              floats.add(in.readFloat());
            }
            in.popLimit(limit);
          } else {
            floats.add(in.readFloat());
          }
        }
        case TENSOR_DATA_LOCATION -> external = in.readInt32() == EXTERNAL;
        default -> in.skipField(tag);
      }
    }
    if (dataType != FLOAT) {
      return new Initializer(name, dataType, null);
    }
    if (external) {
      throw new IOException(
          source + ": initializer " + name + " keeps its data in an external file; not supported");
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    float[] values;
    if (raw != null) {
      values = new float[raw.remaining() / Float.BYTES];
      raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    } else {
      values = new float[floats.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = floats.get(i);
      }
    }
    try {
      return new Initializer(name, dataType, new Tensor(name, shape, values));
    } catch (IllegalArgumentException e) {
      throw new IOException(source + ": " + e.getMessage(), e);
    }
  }

  private static CodedInputStream reader(ByteBuffer bytes) {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.enableAliasing(true);
    in.setSizeLimit(Integer.MAX_VALUE);
    return in;
  }
}
