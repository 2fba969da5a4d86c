package io.prefstream.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.prefstream.model.HostTable;
import io.prefstream.model.SparseRows;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay) over a model's parameters, using the engine's fused Adam update,
 * with its moments held here so they can be saved in a checkpoint and restored: DJL's own
 * optimizers keep them private.
 */
public final class AdamW {

  private final float learningRate;
  private final float weightDecay;
  private final float beta1;
  private final float beta2;
  private final float epsilon;
  private final Map<String, NDArray[]> moments = new LinkedHashMap<>();
  private final Map<String, Float> scales = new java.util.HashMap<>();
  private final java.util.Set<String> frozen = new java.util.HashSet<>();

  /** Rows of each sparse table (by parameter id) updated since {@link #markSaved}, with widths. */
  private final Map<String, java.util.BitSet> touched = new java.util.HashMap<>();

  private final Map<String, Integer> touchedWidth = new java.util.HashMap<>();
  private long steps;
  private long restartedAt;

  public AdamW(float learningRate, float weightDecay, float beta1, float beta2, float epsilon) {
    this.learningRate = learningRate;
    this.weightDecay = weightDecay;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  public long steps() {
    return steps;
  }

  /**
   * Scales one parameter's learning rate (and with it its weight decay, as PyTorch's parameter
   * groups do): layer-wise learning-rate decay gives lower layers smaller steps.
   */
  public void scaleLearningRate(Parameter parameter, float scale) {
    scales.put(parameter.getId(), scale);
  }

  /** Marks a parameter the trainer never updates: it keeps no moments. */
  public void freeze(Parameter parameter) {
    frozen.add(parameter.getId());
    NDArray[] m = moments.remove(parameter.getId());
    if (m != null) {
      m[0].close();
      m[1].close();
    }
  }

  /**
   * One update of every parameter that requires a gradient, from its accumulated gradient times
   * {@code rescale} (global norm clipping), then zeroes the gradients; and of the {@code sparse}
   * rows, from their gradient. Sparse rows are updated lazily (as TensorFlow's LazyAdam): their
   * moments and weight decay advance only in steps that touch them.
   */
  public void step(List<Parameter> parameters, List<SparseRows> sparse, float rescale) {
    step(parameters, sparse, rescale, 1f);
  }

  /**
   * As {@link #step(List, List, float)}, with every learning rate times {@code rate} (the
   * schedule's factor for this step: warm-up, decay).
   */
  public void step(List<Parameter> parameters, List<SparseRows> sparse, float rescale, float rate) {
    steps++;
    // Bias correction counts the steps since the moments were last started afresh.
    long since = steps - restartedAt;
    double coef1 = 1 - Math.pow(beta1, since);
    double coef2 = 1 - Math.pow(beta2, since);
    float biasCorrected = (float) (learningRate * rate * Math.sqrt(coef2) / coef1);
    float stepRate = learningRate * rate;
    for (SparseRows s : sparse) {
      NDArray table = s.table().getArray();
      NDArray[] m = moments.computeIfAbsent(s.table().getId(), k -> newMoments(table));
      java.util.BitSet rows =
          touched.computeIfAbsent(s.table().getId(), k -> new java.util.BitSet());
      for (long r : s.rows()) {
        rows.set(Math.toIntExact(r));
      }
      touchedWidth.put(s.table().getId(), s.dim());
      var w = HostTable.view(table);
      var mean = HostTable.view(m[0]);
      var variance = HostTable.view(m[1]);
      if (w.isPresent() && mean.isPresent() && variance.isPresent()) {
        updateRows(
            w.get(),
            mean.get(),
            variance.get(),
            s.rows(),
            s.dim(),
            s.gradient(),
            stepRate,
            biasCorrected,
            rescale);
      } else {
        updateRowsInEngine(table, m, s, stepRate, biasCorrected, rescale);
      }
    }
    for (Parameter p : parameters) {
      if (!p.requiresGradient()) {
        continue;
      }
      NDArray weight = p.getArray();
      NDArray[] m = moments.computeIfAbsent(p.getId(), k -> newMoments(weight));
      float scale = scales.getOrDefault(p.getId(), 1f);
      try (NDArray grad = weight.getGradient()) {
        update(weight, grad, m[0], m[1], stepRate * scale, biasCorrected * scale, rescale);
      }
    }
  }

  /**
   * The engine's AdamW update (as {@link #update}, in the same float arithmetic) of a table's
   * {@code rows} and their moments, in place in host memory: no gather, no scatter.
   */
  void updateRows(
      FloatBuffer weight,
      FloatBuffer mean,
      FloatBuffer variance,
      long[] rows,
      int dim,
      float[] gradient,
      float stepRate,
      float biasCorrected,
      float rescale) {
    // Rows are copied out and back in bulk, so the update is one long loop over flat arrays,
    // which the JIT vectorizes (square root and division included).
    int n = rows.length * dim;
    float[] w = new float[n];
    float[] m = new float[n];
    float[] v = new float[n];
    for (int i = 0; i < rows.length; i++) {
      int at = Math.toIntExact(rows[i] * dim);
      weight.get(at, w, i * dim, dim);
      mean.get(at, m, i * dim, dim);
      variance.get(at, v, i * dim, dim);
    }
    float lrDecay = stepRate * weightDecay;
    float keep1 = 1 - beta1;
    float keep2 = 1 - beta2;
    for (int k = 0; k < n; k++) {
      float g = gradient[k] * rescale;
      float wk = w[k] - w[k] * lrDecay;
      float mk = m[k] * beta1 + keep1 * g;
      float vk = v[k] * beta2 + keep2 * g * g;
      m[k] = mk;
      v[k] = vk;
      w[k] = wk - mk * biasCorrected / ((float) Math.sqrt(vk) + epsilon);
    }
    for (int i = 0; i < rows.length; i++) {
      int at = Math.toIntExact(rows[i] * dim);
      weight.put(at, w, i * dim, dim);
      mean.put(at, m, i * dim, dim);
      variance.put(at, v, i * dim, dim);
    }
  }

  /** As {@link #updateRows} through engine ops, where the table is not in host memory (a GPU). */
  void updateRowsInEngine(
      NDArray table,
      NDArray[] m,
      SparseRows s,
      float stepRate,
      float biasCorrected,
      float rescale) {
    try (NDManager manager = table.getManager().newSubManager()) {
      NDIndex rows = new NDIndex("{}", manager.create(s.rows()));
      NDArray values = table.get(rows);
      NDArray mean = m[0].get(rows);
      NDArray variance = m[1].get(rows);
      values.attach(manager);
      mean.attach(manager);
      variance.attach(manager);
      NDArray gradient =
          manager
              .create(s.gradient(), new Shape(s.rows().length, s.dim()))
              .toDevice(table.getDevice(), false);
      update(values, gradient, mean, variance, stepRate, biasCorrected, rescale);
      table.set(rows, values);
      m[0].set(rows, mean);
      m[1].set(rows, variance);
    }
  }

  /** The engine's fused AdamW update of {@code weight} and its moments, in place. */
  private void update(
      NDArray weight,
      NDArray grad,
      NDArray mean,
      NDArray variance,
      float stepRate,
      float biasCorrected,
      float rescale) {
    weight
        .getNDArrayInternal()
        .adamUpdate(
            new NDList(weight, grad, mean, variance),
            new NDList(weight),
            stepRate,
            biasCorrected,
            weightDecay,
            rescale,
            -1f, // no element-wise clipping: the caller clips by global norm through rescale
            beta1,
            beta2,
            epsilon,
            true,
            true);
  }

  private static NDArray[] newMoments(NDArray weight) {
    NDManager manager = weight.getManager();
    return new NDArray[] {
      manager.zeros(weight.getShape(), weight.getDataType()),
      manager.zeros(weight.getShape(), weight.getDataType())
    };
  }

  /**
   * The moments of each parameter, in parameter order, for a checkpoint. A parameter that was never
   * updated (frozen) has none: two empty arrays stand in for them, so a frozen embedding table
   * costs its checkpoint nothing.
   */
  public byte[] encode(List<Parameter> parameters) {
    NDList list = new NDList();
    NDManager manager = parameters.get(0).getArray().getManager();
    try (NDManager scope = manager.newSubManager()) {
      NDArray none = scope.create(new float[0]);
      for (Parameter p : parameters) {
        NDArray[] m = moments.get(p.getId());
        if (m == null && frozen.contains(p.getId())) {
          list.add(none);
          list.add(none);
          continue;
        }
        if (m == null) {
          m = moments.computeIfAbsent(p.getId(), k -> newMoments(p.getArray()));
        }
        list.add(m[0]);
        list.add(m[1]);
      }
      return list.encode();
    }
  }

  /**
   * The sparse tables' rows updated since the last {@link #markSaved} (or since start), by
   * parameter id: the only rows of those tables, and of their moments, that changed.
   */
  public Map<String, java.util.BitSet> touched() {
    return touched;
  }

  /** Row width of each table in {@link #touched}. */
  public Map<String, Integer> touchedWidth() {
    return touchedWidth;
  }

  /** Starts tracking changed rows afresh: the state now is what a checkpoint holds. */
  public void markSaved() {
    touched.clear();
  }

  /**
   * The moment arrays in parameter order (mean, then variance, per parameter; null for a frozen
   * parameter's), for a delta of the optimizer state.
   */
  public List<NDArray> momentArrays(List<Parameter> parameters) {
    List<NDArray> arrays = new ArrayList<>(2 * parameters.size());
    for (Parameter p : parameters) {
      NDArray[] m = moments.get(p.getId());
      if (m == null && !frozen.contains(p.getId())) {
        m = moments.computeIfAbsent(p.getId(), k -> newMoments(p.getArray()));
      }
      arrays.add(m == null ? null : m[0]);
      arrays.add(m == null ? null : m[1]);
    }
    return arrays;
  }

  /**
   * Starts every moment afresh (zeroes them; bias correction counts from here): after a concept
   * drift, second moments grown on the old regime's gradients would keep the steps small for
   * thousands of steps (β₂ = 0.999).
   */
  public void restartMoments() {
    for (NDArray[] m : moments.values()) {
      for (NDArray a : m) {
        a.subi(a); // in place: a table's moments stay in host memory
      }
    }
    restartedAt = steps;
  }

  /** The step at which the moments were last started afresh (0: never). */
  public long restartedAt() {
    return restartedAt;
  }

  /** Restores {@link #restartedAt} (a checkpoint records it). */
  public void restoreRestartedAt(long step) {
    this.restartedAt = step;
  }

  /** Sets the step count (after a delta of the moments was applied in place). */
  public void restoreSteps(long steps) {
    this.steps = steps;
  }

  /** Restores moments saved by {@link #encode} for the same parameters, and the step count. */
  public void restore(List<Parameter> parameters, byte[] encoded, long steps) throws IOException {
    NDManager manager = parameters.get(0).getArray().getManager();
    NDList list = NDList.decode(manager, encoded);
    if (list.size() != 2 * parameters.size()) {
      throw new IOException(
          "optimizer state holds "
              + list.size()
              + " arrays, the model has "
              + parameters.size()
              + " parameters (2 moments each)");
    }
    List<String> mismatched = new ArrayList<>();
    for (int i = 0; i < parameters.size(); i++) {
      Parameter p = parameters.get(i);
      NDArray m = list.get(2 * i);
      NDArray v = list.get(2 * i + 1);
      if (m.size() == 0 && p.getArray().size() > 0) {
        moments.remove(p.getId()); // never updated when saved (frozen)
        continue;
      }
      if (!m.getShape().equals(p.getArray().getShape())) {
        mismatched.add(p.getName() + " " + p.getArray().getShape() + " vs " + m.getShape());
      }
      moments.put(p.getId(), new NDArray[] {m, v});
    }
    if (!mismatched.isEmpty()) {
      throw new IOException("optimizer state does not fit the model: " + mismatched);
    }
    this.steps = steps;
  }
}
